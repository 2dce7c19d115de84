package conventions

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// TestSteadyMatcher: the matcher string and its parts say the same thing,
// and it selects series without a phase label or in the steady phase, not
// warm-up ones.
func TestSteadyMatcher(t *testing.T) {
	t.Parallel()
	ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector("{" + SteadyMatcher + "}")
	if err != nil {
		t.Fatalf("%s: %v", SteadyMatcher, err)
	}
	if len(ms) != 1 || ms[0].Name != SteadyMatcherLabel || ms[0].Type.String() != SteadyMatcherOp || ms[0].Value != SteadyMatcherValue {
		t.Fatalf("%s parses as %v, want %s %s %q", SteadyMatcher, ms, SteadyMatcherLabel, SteadyMatcherOp, SteadyMatcherValue)
	}
	for phase, want := range map[string]bool{"": true, PhaseSteady: true, PhaseWarmup: false} {
		if got := ms[0].Matches(phase); got != want {
			t.Errorf("%s matches phase %q: %v, want %v", SteadyMatcher, phase, got, want)
		}
	}
}
