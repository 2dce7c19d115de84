package analyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/analyzer/synth"
	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/store"
)

var (
	jan = Month{2025, time.January}
	apr = Month{2025, time.April}
)

// e2eHistory is January to April 2025 of continuous traffic sampled every
// 20 minutes: steady stays put, slow steps up 30% in latency on 1 April,
// shaky loses 3 points of business success on 1 April. (The run-shaped
// history, with a warm-up phase to ignore, is TestRunHistory's.)
func e2eHistory() synth.Config {
	at := apr.Start(time.UTC)
	return synth.Config{
		Start: jan.Start(time.UTC), End: apr.End(time.UTC), Seed: 7, Weekly: 0.1, MissingDays: 0.05,
		Continuous: true, Interval: 20 * time.Minute,
		Interfaces: []synth.Interface{
			{Name: "steady", RPS: 20, Median: 40 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001},
			{Name: "slow", RPS: 10, Median: 120 * time.Millisecond, Sigma: 0.6, BusinessFailure: 0.005, SystemFailure: 0.001,
				Changes: []synth.Change{{Kind: synth.LatencyStep, At: at, Size: 0.3}}},
			{Name: "shaky", RPS: 15, Median: 80 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.01, SystemFailure: 0.002,
				Changes: []synth.Change{{Kind: synth.BusinessDip, At: at, Size: 0.03}}},
		},
	}
}

// openStore writes cfg's history into a fresh embedded store.
func openStore(t testing.TB, cfg synth.Config) *store.DB {
	t.Helper()
	db, err := store.Open(t.TempDir(), testStoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := fill(db, cfg); err != nil {
		t.Fatal(err)
	}
	return db
}

func fill(db *store.DB, cfg synth.Config) error {
	ctx := context.Background()
	bulk, err := db.NewBulk(ctx)
	if err != nil {
		return err
	}
	if err := cfg.Generate(func(ls labels.Labels, ts int64, v float64) error { return bulk.Append(ctx, ls, ts, v) }); err != nil {
		return errors.Join(err, bulk.Rollback())
	}
	_, err = bulk.Commit(ctx)
	return err
}

func fixedOptions() Options {
	o := DefaultOptions()
	o.TrendMonths = 4
	o.Resolution = time.Hour // two samples of the 20-minute history
	o.Now = func() time.Time { return time.Date(2025, 5, 2, 8, 0, 0, 0, time.UTC) }
	return o
}

var shared struct {
	once sync.Once
	db   *store.DB
	rep  *Report
	err  error
}

// sharedReport builds the e2e history's April report once for every test
// that reads it.
func sharedReport(t *testing.T) (*Report, *store.DB) {
	t.Helper()
	shared.once.Do(func() {
		db, err := store.Open(filepath.Join(os.TempDir(), fmt.Sprintf("perfbase-analyzer-test-%d", os.Getpid())), testStoreOptions())
		if err != nil {
			shared.err = err
			return
		}
		shared.db = db
		if shared.err = fill(db, e2eHistory()); shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), testQueryTimeout)
		defer cancel()
		shared.rep, shared.err = BuildReport(ctx, db.Querier(), fixedOptions(), BaselineOptions{}, apr)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.rep, shared.db
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.db != nil {
		// A store that does not close or a temporary dir left behind fails the run.
		if err := errors.Join(shared.db.Close(), os.RemoveAll(shared.db.Dir())); err != nil {
			fmt.Fprintln(os.Stderr, "shared test store:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

func TestBuildReportEmbedded(t *testing.T) {
	t.Parallel()
	cfg := e2eHistory()
	rep, _ := sharedReport(t)
	if rep.Verdict != VerdictRegressed || len(rep.Interfaces) != 3 {
		t.Fatalf("verdict %s with %d interfaces", rep.Verdict, len(rep.Interfaces))
	}
	want := map[string]map[string]string{
		"steady": {c.BaselineLatencyP50: VerdictStable, c.BaselineLatencyP99: VerdictStable, c.BaselineBusinessSuccess: VerdictStable, c.BaselineSystemSuccess: VerdictStable, c.BaselineThroughput: VerdictStable},
		"slow":   {c.BaselineLatencyP50: VerdictRegressed, c.BaselineLatencyP99: VerdictRegressed, c.BaselineBusinessSuccess: VerdictStable},
		"shaky":  {c.BaselineLatencyP50: VerdictStable, c.BaselineBusinessSuccess: VerdictRegressed, c.BaselineSystemSuccess: VerdictStable},
	}
	days := cfg.Days()
	for _, in := range rep.Interfaces {
		for k, v := range want[in.Name] {
			m := in.Metrics[k]
			if m.Verdict != v {
				t.Errorf("%s %s: %s, want %s (%+v)", in.Name, k, m.Verdict, v, *m)
			}
		}
		// the month's p50 from merged buckets is close to the true median
		// of the month's days (the warm-up, 10x slower, must not count).
		var meds []float64
		for _, d := range days[in.Name] {
			if d.Present && !d.Date.Before(apr.Start(time.UTC)) {
				meds = append(meds, d.Median)
			}
		}
		got, truth := float64(in.Metrics[c.BaselineLatencyP50].Current), median(meds)
		if got < truth*0.93 || got > truth*1.07 {
			t.Errorf("%s p50 = %.4f, true median about %.4f", in.Name, got, truth)
		}
		if len(in.Trend) != 4 || in.Trend[3].Month != "2025-04" {
			t.Errorf("%s trend: %+v", in.Name, in.Trend)
		}
		thr := float64(in.Metrics[c.BaselineThroughput].Current)
		rps := cfg.Interfaces[map[string]int{"steady": 0, "slow": 1, "shaky": 2}[in.Name]].RPS
		// PromQL's increase() extrapolates half a scrape interval past the
		// last sample of each run: +15s on these 3-minute runs.
		if thr < rps*0.8 || thr > rps*1.1 { // weekends are 10% lighter
			t.Errorf("%s throughput %.2f, generated about %.2f", in.Name, thr, rps)
		}
	}
	for _, in := range rep.Interfaces {
		if in.Name == "slow" {
			if len(in.ChangePoints) == 0 || in.ChangePoints[0].Date < "2025-03-28" || in.ChangePoints[0].Date > "2025-04-04" {
				t.Errorf("slow change points: %+v", in.ChangePoints)
			}
		}
		if in.Name == "steady" && len(in.ChangePoints) > 0 {
			t.Errorf("steady has change points: %+v", in.ChangePoints)
		}
	}
}

// TestRunHistory reads a history of short nightly runs, each its own
// run_id with a 1-minute warm-up 10x slower than steady state, which must
// not count.
func TestRunHistory(t *testing.T) {
	t.Parallel()
	at := Month{2025, time.March}.Start(time.UTC)
	cfg := synth.Config{
		Start: Month{2025, time.January}.Start(time.UTC), End: Month{2025, time.March}.End(time.UTC), Seed: 5,
		RunDuration: 4 * time.Minute, Warmup: time.Minute, MissingDays: 0.1,
		Interfaces: []synth.Interface{
			{Name: "nightly", RPS: 20, Median: 50 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.01,
				Changes: []synth.Change{{Kind: synth.SystemDip, At: at, Size: 0.02}}},
		},
	}
	db := openStore(t, cfg)
	o := fixedOptions()
	o.BaselineMonths, o.TrendMonths, o.Resolution = 2, 3, time.Minute
	rep, err := BuildReport(context.Background(), db.Querier(), o, BaselineOptions{}, Month{2025, time.March})
	if err != nil {
		t.Fatal(err)
	}
	in := rep.Interfaces[0]
	if in.Metrics[c.BaselineSystemSuccess].Verdict != VerdictRegressed || in.Metrics[c.BaselineLatencyP50].Verdict != VerdictStable {
		t.Fatalf("verdicts: %s", summary(metricList(in)))
	}
	if p50 := float64(in.Metrics[c.BaselineLatencyP50].Current); p50 < 0.045 || p50 > 0.055 {
		t.Errorf("p50 %.4f: the warm-up leaked in (steady median 0.050)", p50)
	}
	// steady phase only: 3 of 4 minutes a night at 20/s
	if thr := float64(in.Metrics[c.BaselineThroughput].Current); thr < 18 || thr > 22 {
		t.Errorf("throughput %.2f, want about 20", thr)
	}

	// a run pinned as the baseline: one night has too few days for rank
	// tests, but its counts still test the success ratios.
	rep, err = BuildReport(context.Background(), db.Querier(), o, BaselineOptions{RunID: "nightly-2025-02-10"}, Month{2025, time.March})
	if err != nil {
		t.Fatal(err)
	}
	in = rep.Interfaces[0]
	if rep.Baseline.Kind != SourceRun || in.Metrics[c.BaselineLatencyP50].Verdict != VerdictInsufficient ||
		in.Metrics[c.BaselineSystemSuccess].Verdict != VerdictRegressed {
		t.Fatalf("pinned run: %+v %s", rep.Baseline, summary(metricList(in)))
	}
}

func metricList(in InterfaceReport) []*MetricResult {
	var rs []*MetricResult
	for _, k := range c.BaselineMetrics {
		if m := in.Metrics[k]; m != nil {
			rs = append(rs, m)
		}
	}
	return rs
}

// testQueryTimeout bounds queries in tests. It is generous: under the race
// detector on a busy 2-core machine a query runs many times slower than in
// use, and tests judge results, never speed (the benchmarks do).
const testQueryTimeout = 15 * time.Minute

func testStoreOptions() store.Options {
	o := store.DefaultOptions()
	o.QueryTimeout = testQueryTimeout
	return o
}

// TestBatchesGiveTheSameReport: querying the interfaces in groups (to
// bound memory) changes nothing in the report.
func TestBatchesGiveTheSameReport(t *testing.T) {
	t.Parallel()
	_, db := sharedReport(t)
	render := func(batch int) string {
		o := fixedOptions()
		o.Batch = batch
		ctx, cancel := context.WithTimeout(context.Background(), testQueryTimeout)
		defer cancel()
		rep, err := BuildReport(ctx, db.Querier(), o, BaselineOptions{}, apr)
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	all, one := render(0), render(1)
	if all != one {
		t.Errorf("the report differs when interfaces are queried one at a time:\nall at once:\n%s\none at a time:\n%s", all, one)
	}
	if !strings.Contains(all, `"slow"`) || !strings.Contains(all, `"shaky"`) {
		t.Errorf("report lacks the interfaces:\n%s", all)
	}
}
