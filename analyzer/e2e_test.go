package analyzer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// e2eHistory is January to April 2025: steady stays put, slow steps up 30%
// in latency on 1 April, shaky loses 3 points of business success on
// 1 April, and a warm-up phase 10x slower than steady state must be ignored.
func e2eHistory() synth.Config {
	at := apr.Start(time.UTC)
	return synth.Config{
		Start: jan.Start(time.UTC), End: apr.End(time.UTC), Seed: 7, Weekly: 0.1, MissingDays: 0.05,
		Warmup: time.Minute,
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
	db, err := store.Open(t.TempDir(), store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
		bulk.Rollback()
		return err
	}
	_, err = bulk.Commit(ctx)
	return err
}

func fixedOptions() Options {
	o := DefaultOptions()
	o.TrendMonths = 4
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
		db, err := store.Open(filepath.Join(os.TempDir(), fmt.Sprintf("perfbase-analyzer-test-%d", os.Getpid())), store.DefaultOptions())
		if err != nil {
			shared.err = err
			return
		}
		shared.db = db
		if shared.err = fill(db, e2eHistory()); shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
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
		shared.db.Close()
		os.RemoveAll(shared.db.Dir())
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
		if thr < rps*0.8 || thr > rps*1.05 {
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
