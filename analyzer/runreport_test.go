package analyzer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/runhist"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
)

// runStore writes months of generated runs (two interfaces; "slow" gets
// 25% slower from step on) into a new store, as `perfbase run` would have
// recorded them, and returns the store and the runs.
func runStore(t *testing.T, start, end, step time.Time, perMonth int) (*store.DB, []synth.Run) {
	t.Helper()
	cfg := synth.RunsConfig{Start: start, End: end, Seed: 7, MinRunsPerMonth: perMonth, MaxRunsPerMonth: perMonth,
		Interfaces: []synth.Interface{
			{Name: "slow", RPS: 20, Median: 40 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.01, SystemFailure: 0.001,
				Changes: []synth.Change{{Kind: synth.LatencyStep, At: step, Size: 0.25}}},
			{Name: "steady", RPS: 20, Median: 30 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.01, SystemFailure: 0.001},
		}}
	cfg.Defaults()
	runs, err := cfg.Runs()
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "data"), testStoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	recs := make([]runrecord.Record, 0, len(runs))
	for _, r := range runs {
		rec, err := runhist.Record(r, "top")
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := runhist.Write(context.Background(), db, recs); err != nil {
		t.Fatal(err)
	}
	return db, runs
}

// TestRunReportFindsAStep: the first run after a 25% latency step,
// against the runs before it, is regressed on latency with the evidence of
// runs; the unchanged interface is stable; an unknown run is ErrNoRuns.
func TestRunReportFindsAStep(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	db, runs := runStore(t, start, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), step, 2)
	var first synth.Run
	for _, r := range runs {
		if !r.Start.Before(step) {
			first = r
			break
		}
	}
	o := DefaultOptions()
	o.Now = func() time.Time { return time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC) }
	rep, err := BuildRunReport(context.Background(), db.Querier(), o, first.ID, RunBaseline{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unit != UnitRuns || rep.Run == nil || rep.Run.RunID != first.ID || len(rep.Baseline.Runs) != DefaultBaselineRuns {
		t.Fatalf("report of run %s: unit %q, run %+v, baseline %+v", first.ID, rep.Unit, rep.Run, rep.Baseline)
	}
	for _, ir := range rep.Interfaces {
		p50 := ir.Metrics[c.BaselineLatencyP50]
		want := VerdictStable
		if ir.Name == "slow" {
			want = VerdictRegressed
		}
		if p50.Verdict != want || p50.Evidence == nil || p50.Evidence.CurrentRuns != 1 || p50.Evidence.BaselineRuns != 3 {
			t.Errorf("%s p50: %s (want %s), change %.3f, evidence %+v", ir.Name, p50.Verdict, want, float64(p50.Change), p50.Evidence)
		}
	}
	if !rep.Regressed() {
		t.Error("report not regressed")
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(rep); err != nil {
		t.Fatal(err)
	}
	if _, err := BuildRunReport(context.Background(), db.Querier(), o, "no-such-run", RunBaseline{}); !errors.Is(err, ErrNoRuns) {
		t.Fatalf("unknown run: %v, want ErrNoRuns", err)
	}
	// One run against one run: decidable from the windows.
	prev := runs[0]
	rep, err = BuildRunReport(context.Background(), db.Querier(), o, first.ID, RunBaseline{RunIDs: []string{prev.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ir := range rep.Interfaces {
		if m := ir.Metrics[c.BaselineLatencyP50]; m.Verdict == VerdictInsufficient {
			t.Errorf("%s: one run against one run is insufficient_data: %s", ir.Name, m.Reason)
		}
	}
}

// TestMonthlyReportOverRuns: a month with one recorded run gets latency
// verdicts from runs (not insufficient_data) that find a 25% step.
func TestMonthlyReportOverRuns(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	db, _ := runStore(t, start, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), step, 1)
	o := DefaultOptions()
	o.Now = func() time.Time { return time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC) }
	rep, err := BuildReport(context.Background(), db.Querier(), o, BaselineOptions{}, Month{Year: 2026, Month: time.May})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unit != UnitRuns {
		t.Fatalf("unit %q (%s), want runs", rep.Unit, rep.UnitReason)
	}
	for _, ir := range rep.Interfaces {
		m := ir.Metrics[c.BaselineLatencyP50]
		want := VerdictStable
		if ir.Name == "slow" {
			want = VerdictRegressed
		}
		if m.Verdict != want {
			t.Errorf("%s p50 %s (want %s): change %.3f, %s, evidence %+v", ir.Name, m.Verdict, want, float64(m.Change), m.Reason, m.Evidence)
		}
		if len(ir.Trend) != o.TrendMonths || ir.Trend[len(ir.Trend)-1].Requests == 0 {
			t.Errorf("%s: trend %+v", ir.Name, ir.Trend)
		}
	}
}
