package scenario

import (
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/perfbase/perfbase/loader/feed"
)

// The values a scenario starts from. Decoding writes what the file sets onto
// them, so a key the file leaves out keeps its default and a key it sets,
// even to zero, is the file's (and validated as such).
var (
	// DefaultScenario is the scenario before its file is read.
	DefaultScenario = Scenario{Mode: ModeMixed, Defaults: DefaultDefaults}

	// DefaultDefaults is the defaults block of a file that has none.
	DefaultDefaults = Defaults{
		Timeout:     Duration(5 * time.Second),
		MaxInFlight: 10000,
		Lateness:    Duration(100 * time.Millisecond),
		MaxBody:     64 << 10,
	}
)

// Some fields take their default when zero, whether the file leaves them
// out or writes `method: ""` or `window: 0s`.

// DefaultGuard holds the Window and MinRequests of a guard that sets them to
// zero or not at all.
var DefaultGuard = Guard{Window: Duration(10 * time.Second), MinRequests: 20}

// DefaultMethod is the method of an interface that sets none.
const DefaultMethod = http.MethodGet

// plain is Scenario without methods, so decoding into it does not call
// UnmarshalYAML again.
type plain Scenario

// UnmarshalYAML starts from DefaultScenario, so any YAML decoding of a
// Scenario (Parse, or a program embedding one in its own file) has the
// defaults. It does not validate: Parse does.
func (s *Scenario) UnmarshalYAML(unmarshal func(any) error) error {
	*s = DefaultScenario
	// Named like the type it stands for, because the decoder names it in
	// messages such as `cannot use str "x" as a Scenario`.
	type Scenario plain
	return unmarshal((*Scenario)(s))
}

// applyDefaults fills in the fields whose zero value stands for a default,
// before validation judges them.
func applyDefaults(s *Scenario) {
	for i := range s.Interfaces {
		it := &s.Interfaces[i]
		if it.Method == "" {
			it.Method = DefaultMethod
		}
		// Methods are case-insensitive in the file: post is POST.
		it.Method = strings.ToUpper(it.Method)
	}
	for name, d := range s.Data {
		if d.Order == "" {
			d.Order = string(feed.Sequential)
		}
		if d.OnExhausted == "" {
			d.OnExhausted = string(feed.Recycle)
		}
		s.Data[name] = d
	}
	for _, steps := range [][]Step{s.Setup, s.Teardown} {
		for i := range steps {
			st := &steps[i]
			if st.Method == "" {
				st.Method = DefaultMethod
			}
			st.Method = strings.ToUpper(st.Method)
			if st.Timeout == 0 {
				st.Timeout = DefaultStepTimeout
			}
		}
	}
	if g := s.Guard; g != nil {
		if g.Window == 0 {
			g.Window = DefaultGuard.Window
		}
		if g.MinRequests == 0 {
			g.MinRequests = DefaultGuard.MinRequests
		}
	}
}

// inherit gives each interface what it leaves to the defaults block: the
// timeout, the expect block, and the headers it does not set itself. It
// runs after validation, which judges each value where the file writes it:
// an inherited value was judged once, at defaults.
func inherit(s *Scenario) {
	for i := range s.Interfaces {
		it := &s.Interfaces[i]
		if it.Timeout == 0 {
			it.Timeout = s.Defaults.Timeout
		}
		if it.Expect == nil {
			it.Expect = s.Defaults.Expect
		}
		headers := make(map[string]string, len(s.Defaults.Headers)+len(it.Headers))
		maps.Copy(headers, s.Defaults.Headers)
		maps.Copy(headers, it.Headers)
		it.Headers = headers
	}
}
