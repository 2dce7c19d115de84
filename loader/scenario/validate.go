package scenario

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
)

// validator checks a decoded scenario and records every problem; it never
// changes the scenario. There is one method per section of the file, called
// in file order, and small rules (positive, ratio) that sections
// share: a new key gets a line in its section, a new kind of check a rule.
type validator struct {
	reporter
}

func (v *validator) scenario(s *Scenario) {
	switch {
	case s.Name == "":
		v.errorf("name", "is required")
	case !scenarioNameRe.MatchString(s.Name):
		// The name starts the default run id, a label value every backend
		// must take: ASCII letters, digits and _.:- only.
		v.errorf("name", "%q: use ASCII letters, digits and _.:- (at most 100, starting with a letter or digit)", s.Name)
	}
	v.target(s.Target)
	v.defaults(&s.Defaults)
	names := v.interfaces(s)
	v.mode(s)
	v.mix("mix", s.Mix, names)
	v.stages(s, names)
	v.thresholds(s.Thresholds, names)
	v.guard(s.Guard)
	v.data(s)
	v.templates(s)
	v.mark(s.Mark)
	v.steps("setup", s.Setup)
	v.steps("teardown", s.Teardown)
}

// Limits of a scenario: beyond them a run is a typo (an exponent, a
// missing unit) or more than one loader can carry; documented in the
// README. Shard a bigger load across loaders (--shard).
const (
	// MaxRate is the highest rate or ramp_to of a stage, requests/s.
	MaxRate = 1_000_000
	// MaxUsers is the most closed-loop users of a stage.
	MaxUsers = 100_000
	// MaxWeight is the largest mix weight.
	MaxWeight = 1_000_000
	// MaxInterfaces bounds the interfaces of one scenario: each costs a few
	// hundred series and a share of the run's memory.
	MaxInterfaces = 1000
	// MaxInFlight bounds defaults.max_in_flight, requests per interface.
	MaxInFlight = 100_000
	// MaxBody bounds a request body (after ${VAR} expansion), bytes.
	MaxBody = 1 << 20
	// MaxRunDuration bounds the stages of a run in all.
	MaxRunDuration = 31 * 24 * time.Hour
)

// scenarioNameRe is what a scenario name may be: the default run id is
// the name and a time, and must be a valid label value everywhere.
var scenarioNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)

// dataSetName is what a data set may be called, as it is written in
// {{name.column}}.
var dataSetName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// Rules shared by the sections.

func (v *validator) positive(field string, d Duration) {
	if d <= 0 {
		v.errorf(field, "must be positive")
	}
}

func (v *validator) ratio(field string, r float64) {
	if !(r >= 0 && r <= 1) { // NaN too
		v.errorf(field, "is a ratio and must be in [0, 1], not %g", r)
	}
}

// finiteIn checks a number is finite and in (0, hi]: NaN and infinities
// would pass the comparisons that the other rules make.
func (v *validator) finiteIn(field string, x, hi float64) {
	switch {
	case x <= 0:
		v.errorf(field, "must be positive, not %g", x)
	case !(x <= hi): // NaN, +Inf and too large
		v.errorf(field, "must be a finite number at most %g, not %g", hi, x)
	}
}

// Sections, in file order.

func (v *validator) target(target string) {
	if target == "" {
		v.errorf("target", "is required, e.g. http://127.0.0.1:8080")
		return
	}
	if err := checkTarget(target); err != nil {
		v.errorf("target", "%v", err)
	}
}

func (v *validator) defaults(d *Defaults) {
	v.positive("defaults.timeout", d.Timeout)
	switch {
	case d.MaxInFlight <= 0:
		v.errorf("defaults.max_in_flight", "must be positive")
	case d.MaxInFlight > MaxInFlight:
		v.errorf("defaults.max_in_flight", "must be at most %d, not %d", MaxInFlight, d.MaxInFlight)
	}
	v.positive("defaults.lateness", d.Lateness)
	if d.MaxBody < 0 {
		v.errorf("defaults.max_body", "must not be negative")
	}
	v.headers("defaults.headers", d.Headers)
	if d.Expect != nil {
		v.expect("defaults.expect", d.Expect)
	}
}

// interfaces checks every interface and returns the valid names, each with
// the index of the interface that has it, for the sections that refer to
// interfaces by name.
func (v *validator) interfaces(s *Scenario) map[string]int {
	switch {
	case len(s.Interfaces) == 0:
		v.errorf("interfaces", "at least one interface is required")
	case len(s.Interfaces) > MaxInterfaces:
		v.errorf("interfaces", "%d interfaces: at most %d in one scenario (split the TOP list into several scenarios)", len(s.Interfaces), MaxInterfaces)
	}
	names := map[string]int{}
	for i := range s.Interfaces {
		v.iface(fmt.Sprintf("interfaces[%d]", i), i, &s.Interfaces[i], names)
	}
	return names
}

func (v *validator) iface(f string, i int, it *Interface, names map[string]int) {
	v.interfaceName(f+".name", i, it.Name, names)
	v.method(f+".method", it.Method)
	switch {
	case it.Path == "":
		v.errorf(f+".path", "is required, e.g. /api/balance")
	case !strings.HasPrefix(it.Path, "/"):
		v.errorf(f+".path", "%q must start with / (it is relative to target)", it.Path)
	case strings.Contains(it.Path, "://"):
		v.errorf(f+".path", "must be a path relative to target, not a URL")
	}
	// Zero is no timeout of its own: the interface inherits the default one.
	if it.Timeout < 0 {
		v.errorf(f+".timeout", "must be positive")
	}
	if len(it.Body) > MaxBody {
		v.errorf(f+".body", "%d bytes: at most %d", len(it.Body), MaxBody)
	}
	v.headers(f+".headers", it.Headers)
	if it.Expect != nil {
		v.expect(f+".expect", it.Expect)
	}
}

// method checks the HTTP method of an interface or a set-up step.
func (v *validator) method(field, m string) {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		v.errorf(field, "%q is not an HTTP method", m)
	}
}

// interfaceName checks the name of interfaces[i] and adds it to names.
func (v *validator) interfaceName(field string, i int, name string, names map[string]int) {
	switch {
	case name == "":
		v.errorf(field, "is required")
	case !conventions.ValidInterfaceName(name):
		v.errorf(field, "%q is not a valid interface name: want %s", name, conventions.InterfaceNamePattern)
	default:
		if j, dup := names[name]; dup {
			v.errorf(field, "%q is already the name of interfaces[%d]", name, j)
		} else {
			names[name] = i
		}
	}
}

// validHeaderName reports whether a header can be sent under name.
func validHeaderName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n:")
}

// headers checks header names, and values as expandEnv left them.
func (v *validator) headers(field string, h map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		switch {
		case !validHeaderName(k):
			v.errorf(field, "%q is not a valid header name", k)
		case strings.ContainsAny(h[k], "\r\n"):
			v.errorf(field+"."+k, "value must not contain line breaks")
		}
	}
}

func (v *validator) expect(field string, e *Expect) {
	for i, st := range e.Status {
		if st < 100 || st > 599 {
			v.errorf(fmt.Sprintf("%s.status[%d]", field, i), "%d is not an HTTP status", st)
		}
	}
	if e.Business != nil {
		v.business(field+".business", e.Business)
	}
}

func (v *validator) business(field string, b *BusinessRule) {
	if b.JSON != "" {
		v.businessJSON(field, b)
	} else {
		if b.Regex == "" {
			v.errorf(field, "needs json (a path to the business code) or regex")
		}
		if b.Equals != nil || len(b.In) > 0 {
			v.errorf(field, "equals and in need json, the path to the code")
		}
	}
	if b.Regex != "" {
		if _, err := regexp.Compile(b.Regex); err != nil {
			v.errorf(field+".regex", "invalid regular expression: %v", err)
		}
	}
}

// businessJSON checks a rule that reads the code from a JSON body.
func (v *validator) businessJSON(field string, b *BusinessRule) {
	if slices.Contains(strings.Split(b.JSON, "."), "") || strings.ContainsAny(b.JSON, "[]") {
		// Array indexes (items[0].code) are not read: such a rule would
		// never match, so it is refused rather than silently failing.
		v.errorf(field+".json", "%q is not a dotted path of object keys such as code or result.code", b.JSON)
	}
	n := 0
	for _, set := range []bool{b.Equals != nil, len(b.In) > 0, b.Regex != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.errorf(field, "with json, set exactly one of equals, in or regex")
	}
}

func (v *validator) mode(s *Scenario) {
	switch s.Mode {
	case ModeMixed, ModeConcentrated:
	default:
		v.errorf("mode", "must be %q or %q, not %q", ModeMixed, ModeConcentrated, s.Mode)
	}
	if s.Mode == ModeConcentrated && len(s.Mix) > 0 {
		v.errorf("mix", "applies to mode %q only; a concentrated run gives each interface the full rate", ModeMixed)
	}
}

func (v *validator) mix(field string, mix map[string]float64, names map[string]int) {
	if len(mix) == 0 {
		return
	}
	var sum float64
	for _, name := range slices.Sorted(maps.Keys(mix)) {
		w := mix[name]
		if _, ok := names[name]; !ok {
			v.errorf(field+"."+name, "names no interface")
		}
		switch {
		case w < 0:
			v.errorf(field+"."+name, "weight must not be negative, not %g", w)
		case !(w <= MaxWeight): // NaN, +Inf and too large
			v.errorf(field+"."+name, "weight must be a finite number at most %g, not %g", float64(MaxWeight), w)
			continue
		}
		sum += w
	}
	if !(sum > 0) {
		v.errorf(field, "weights must add up to more than 0")
	}
}

func (v *validator) stages(s *Scenario, names map[string]int) {
	if len(s.Stages) == 0 {
		v.errorf("stages", "at least one stage is required")
	}
	var total time.Duration
	for i, st := range s.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		v.positive(f+".duration", st.Duration)
		if st.Duration > Duration(MaxRunDuration) {
			v.errorf(f+".duration", "must be at most %s", MaxRunDuration)
		} else if st.Duration > 0 {
			total += st.Duration.D()
			if total > MaxRunDuration {
				v.errorf(f+".duration", "takes the stages past %s in all", MaxRunDuration)
				total = 0
			}
		}
		v.load(f, st)
		if len(st.Mix) > 0 {
			if s.Mode == ModeConcentrated {
				v.errorf(f+".mix", "applies to mode %q only", ModeMixed)
			}
			v.mix(f+".mix", st.Mix, names)
		}
	}
}

// load checks that a stage sets exactly one of its load keys, and that one
// well. Whether a key is set is read from the file, as zero is a value to
// reject there, not an absent key.
func (v *validator) load(f string, st Stage) {
	var set []string
	for _, k := range []string{"rate", "ramp_to", "users"} {
		if v.isSet(f + "." + k) {
			set = append(set, k)
		}
	}
	switch {
	case len(set) == 0:
		v.errorf(f, "needs one of rate, ramp_to (open loop) or users (closed loop)")
	case len(set) > 1:
		v.errorf(f, "sets more than one of rate, ramp_to and users")
	case set[0] == "rate":
		v.finiteIn(f+".rate", st.Rate, MaxRate)
	case set[0] == "ramp_to":
		v.finiteIn(f+".ramp_to", st.RampTo, MaxRate)
	case set[0] == "users" && st.Users <= 0:
		v.errorf(f+".users", "must be positive, not %d", st.Users)
	case set[0] == "users" && st.Users > MaxUsers:
		v.errorf(f+".users", "must be at most %d (shard bigger loads with --shard), not %d", MaxUsers, st.Users)
	}
}

func (v *validator) thresholds(ths map[string]Threshold, names map[string]int) {
	for _, name := range slices.Sorted(maps.Keys(ths)) {
		th := ths[name]
		f := "thresholds." + name
		if _, ok := names[name]; !ok && name != ThresholdsAll {
			v.errorf(f, "names no interface (use %q for all)", ThresholdsAll)
		}
		for _, q := range []struct {
			k string
			d Duration
		}{{"p50", th.P50}, {"p90", th.P90}, {"p95", th.P95}, {"p99", th.P99}} {
			if q.d < 0 {
				v.errorf(f+"."+q.k, "must not be negative")
			}
		}
		v.ratio(f+".business_success", th.BusinessSuccess)
		v.ratio(f+".system_success", th.SystemSuccess)
		if th.MaxDropped != nil {
			v.ratio(f+".max_dropped", *th.MaxDropped)
		}
	}
}

func (v *validator) guard(g *Guard) {
	if g == nil {
		return
	}
	if !(g.MinSystemSuccess > 0 && g.MinSystemSuccess <= 1) { // NaN too
		v.errorf("guard.min_system_success", "must be in (0, 1], not %g", g.MinSystemSuccess)
	}
	if g.Window < Duration(time.Second) {
		v.errorf("guard.window", "must be at least 1s")
	}
	if g.MinRequests < 0 {
		v.errorf("guard.min_requests", "must be positive")
	}
}
