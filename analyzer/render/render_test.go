package render

import (
	"strings"
	"testing"

	"github.com/perfbase/perfbase/analyzer"
)

// TestRunNotes: a report over runs says where the run's failure samples
// are and warns when its load generator, or a baseline run's, was saturated.
func TestRunNotes(t *testing.T) {
	t.Parallel()
	r := &analyzer.Report{Unit: analyzer.UnitRuns, UnitReason: "run b against 1 baseline run(s)",
		Run:                &analyzer.RunInfo{RunID: "b", GeneratorSaturated: true, FailuresFiles: []string{"/data/failures-b.jsonl"}},
		SaturatedBaselines: []string{"a"}}
	got := unitLine(r)
	for _, want := range []string{
		"Unit: runs. run b against 1 baseline run(s).",
		"the load generator was saturated in run b",
		"saturated in baseline run(s) a",
		"Failure samples: /data/failures-b.jsonl.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	r.Run.GeneratorSaturated, r.SaturatedBaselines, r.Run.FailuresFiles = false, nil, nil
	if got := unitLine(r); strings.Contains(got, "WARNING") || strings.Contains(got, "Failure") {
		t.Errorf("a clean run gets notes: %q", got)
	}
}
