package scenario

import (
	"fmt"
	"time"

	"github.com/perfbase/perfbase/loader/feed"
)

// Modes of a scenario.
const (
	// ModeMixed runs all interfaces together, each with its weighted share of
	// every stage's rate or users.
	ModeMixed = "mixed"
	// ModeConcentrated runs each interface alone, one after the other, each
	// through all the stages at the full rate.
	ModeConcentrated = "concentrated"
)

// ThresholdsAll is the key of the thresholds that apply to every interface.
const ThresholdsAll = "*"

// Scenario is one load test: what to call and how hard.
type Scenario struct {
	Name       string               `yaml:"name"`
	Target     string               `yaml:"target"`
	Defaults   Defaults             `yaml:"defaults"`
	Interfaces []Interface          `yaml:"interfaces"`
	Mode       string               `yaml:"mode"`
	Mix        map[string]float64   `yaml:"mix"`
	Stages     []Stage              `yaml:"stages"`
	Thresholds map[string]Threshold `yaml:"thresholds"`
	Guard      *Guard               `yaml:"guard"`
	// Data are the named data sets templates take rows from.
	Data map[string]DataSet `yaml:"data"`
	// Mark, when set, adds a header to every request.
	Mark *Mark `yaml:"mark"`
	// Setup runs before the first load request, Teardown after the last.
	Setup    []Step `yaml:"setup"`
	Teardown []Step `yaml:"teardown"`

	// File is where the scenario was read from, for messages; data set
	// files are relative to its directory.
	File string `yaml:"-"`
	// Sets are the data sets, read when the scenario was parsed.
	Sets map[string]*feed.Set `yaml:"-"`
	// Secrets are the values ${NAME} references expanded to: never
	// written to logs, reports or failure samples.
	Secrets []string `yaml:"-"`
}

// Defaults apply to every interface that does not set its own. A file
// without some of them has those of DefaultDefaults.
type Defaults struct {
	// Timeout of one request, connection included.
	Timeout Duration `yaml:"timeout"`
	// Headers sent with every request; an interface's headers win.
	Headers map[string]string `yaml:"headers"`
	// Expect applies to interfaces without an expect block.
	Expect *Expect `yaml:"expect"`
	// MaxInFlight caps concurrent requests per interface in open-loop
	// stages. Requests that would exceed it wait, and those that cannot be
	// sent within Lateness of their schedule are dropped and counted.
	MaxInFlight int `yaml:"max_in_flight"`
	// Lateness is how late a scheduled request may be sent before it counts
	// as dropped.
	Lateness Duration `yaml:"lateness"`
	// MaxBody is how many bytes of a response body are read for business
	// rules; the rest is discarded unread by the rule.
	MaxBody int64 `yaml:"max_body"`
	// Insecure skips TLS certificate verification.
	Insecure bool `yaml:"insecure"`
}

// Interface is one named business interface.
type Interface struct {
	// Name is the value of the interface label: [a-z][a-z0-9_]*, unique.
	Name string `yaml:"name"`
	// Method is upper case once parsed; DefaultMethod when not set.
	Method string `yaml:"method"`
	// Path is relative to the scenario's target and starts with /.
	Path string `yaml:"path"`
	// Headers, Timeout and Expect are the interface's own merged with, or
	// else taken from, the defaults block once parsed.
	Headers map[string]string `yaml:"headers"`
	// Body is sent as is, after ${NAME} expansion.
	Body    string   `yaml:"body"`
	Timeout Duration `yaml:"timeout"`
	Expect  *Expect  `yaml:"expect"`
}

// Expect says what a successful response looks like.
type Expect struct {
	// Status lists the HTTP statuses that count as system success; others,
	// and transport errors, are system failures. Default: any 2xx.
	Status []int `yaml:"status"`
	// Business, when set, decides business success from the body.
	Business *BusinessRule `yaml:"business"`
}

// BusinessRule reads a business code from the response body and says
// whether it means success. Exactly one of JSON and Regex selects the code;
// Equals or In (with JSON) say which codes are success.
type BusinessRule struct {
	// JSON is a dotted path to the code in a JSON body, e.g. "code" or "result.code".
	JSON string `yaml:"json"`
	// Equals is the one successful code.
	Equals *string `yaml:"equals"`
	// In lists the successful codes.
	In []string `yaml:"in"`
	// Regex, without JSON, marks success when it matches the body; with
	// JSON, when it matches the code.
	Regex string `yaml:"regex"`
}

// Stage is a period of load. Open loop: Rate (constant) or RampTo (linear
// from the previous stage's rate). Closed loop: Users.
type Stage struct {
	Name     string             `yaml:"name"`
	Duration Duration           `yaml:"duration"`
	Rate     float64            `yaml:"rate"`
	RampTo   float64            `yaml:"ramp_to"`
	Users    int                `yaml:"users"`
	Warmup   bool               `yaml:"warmup"`
	Mix      map[string]float64 `yaml:"mix"`
}

// OpenLoop reports whether the stage paces arrivals rather than users.
func (s Stage) OpenLoop() bool { return s.Users == 0 }

// Threshold is what an interface must achieve for the run to pass. Zero
// values are not checked. Latency thresholds are upper bounds, success ratios
// lower bounds.
type Threshold struct {
	P50             Duration `yaml:"p50"`
	P90             Duration `yaml:"p90"`
	P95             Duration `yaml:"p95"`
	P99             Duration `yaml:"p99"`
	BusinessSuccess float64  `yaml:"business_success"`
	SystemSuccess   float64  `yaml:"system_success"`
	// MaxDropped is the highest acceptable dropped ratio.
	MaxDropped *float64 `yaml:"max_dropped"`
}

// Guard aborts the run when the target is failing, to protect it.
type Guard struct {
	// MinSystemSuccess is the lowest system success ratio over Window, all
	// interfaces together, before the run is aborted.
	MinSystemSuccess float64 `yaml:"min_system_success"`
	// Window is DefaultGuard's when zero.
	Window Duration `yaml:"window"`
	// MinRequests in the window before the guard judges; DefaultGuard's
	// when zero.
	MinRequests int `yaml:"min_requests"`
}

// Duration is a time.Duration written as "250ms", "1m30s" or "1d".
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration as Go's duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// TotalDuration is the planned length of the run: the stages once in mixed
// mode, once per interface in concentrated mode.
func (s *Scenario) TotalDuration() time.Duration {
	var d time.Duration
	for _, st := range s.Stages {
		d += st.Duration.D()
	}
	if s.Mode == ModeConcentrated {
		d *= time.Duration(len(s.Interfaces))
	}
	return d
}

// Interface returns the interface with the given name.
func (s *Scenario) Interface(name string) (Interface, bool) {
	for _, i := range s.Interfaces {
		if i.Name == name {
			return i, true
		}
	}
	return Interface{}, false
}

// Weights returns the normalised share of each interface in a stage of a
// mixed scenario: the stage's mix, else the scenario's, else equal shares.
func (s *Scenario) Weights(stage Stage) map[string]float64 {
	mix := stage.Mix
	if len(mix) == 0 {
		mix = s.Mix
	}
	w := make(map[string]float64, len(s.Interfaces))
	var sum float64
	for _, i := range s.Interfaces {
		v := 1.0
		if len(mix) > 0 {
			v = mix[i.Name] // absent from an explicit mix: no share
		}
		w[i.Name] = v
		sum += v
	}
	if sum == 0 {
		return w
	}
	for k, v := range w {
		w[k] = v / sum
	}
	return w
}

// String names the scenario for logs, without secrets.
func (s *Scenario) String() string {
	return fmt.Sprintf("%s (%s, %d interfaces, %s)", s.Name, s.Mode, len(s.Interfaces), s.TotalDuration())
}
