package runhist

import (
	"math"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
)

// TestRecordHoldsTheRun: the record built through the Builder holds the
// generated run's totals, one window per generated window, and window
// quantiles equal to the generator's (both from the same buckets).
func TestRecordHoldsTheRun(t *testing.T) {
	t.Parallel()
	cfg := synth.RunsConfig{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Seed: 3,
		Interfaces: []synth.Interface{{Name: "a", RPS: 20, Median: 20 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.01, SystemFailure: 0.002}}}
	cfg.Defaults()
	runs, err := cfg.Runs()
	if err != nil || len(runs) == 0 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	for _, run := range runs {
		rec, err := Record(run, "s")
		if err != nil {
			t.Fatal(err)
		}
		gi, ri := run.Interfaces[0], rec.Interfaces[0]
		if ri.Requests.Completed() != gi.Completed() || ri.Scheduled != gi.Scheduled || ri.ActiveSeconds != gi.Active {
			t.Fatalf("run %s: record %+v, generated %v completed %v scheduled", run.ID, ri.Requests, gi.Completed(), gi.Scheduled)
		}
		if len(ri.Windows) != len(gi.Windows) {
			t.Fatalf("run %s: %d windows, generated %d", run.ID, len(ri.Windows), len(gi.Windows))
		}
		for w, win := range ri.Windows {
			if len(win.Latency) == 0 || math.Abs(win.Latency[0]-gi.Windows[w].P50) > 1e-12 {
				t.Fatalf("run %s window %d: p50 %v, generated %v", run.ID, w, win.Latency, gi.Windows[w].P50)
			}
		}
	}
}
