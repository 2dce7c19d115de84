// Command histgen fills an embedded store with months of synthetic nightly
// load-test history for many interfaces, for the analyzer part of
// `make bench` (report time and memory against the number of interfaces):
//
//	go run ./cmd/histgen -interfaces 100 -months 12 -data-dir /tmp/hist
//	perfbase report --data-dir /tmp/hist --month 2026-10
//
// The history ends with the last complete month, the month to report. Each
// month is written as one block, as a store that recorded the runs would
// hold it after compaction. -batch splits a month's interfaces into several
// blocks to bound memory, at a cost: blocks that overlap in time are merged
// at every query, which slows the report being measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/synth"
	"github.com/perfbase/perfbase/internal/runhist"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
)

func main() { os.Exit(run()) }

func run() (code int) {
	n := flag.Int("interfaces", 100, "number of interfaces")
	months := flag.Int("months", 12, "months of history, ending with the last complete month")
	dir := flag.String("data-dir", "", "embedded store to create (must not exist)")
	batch := flag.Int("batch", 0, "interfaces per written block (0: all, one block a month)")
	runDuration := flag.Duration("run-duration", 10*time.Minute, "length of each nightly run")
	interval := flag.Duration("interval", 30*time.Second, "sample interval")
	raw := flag.Bool("raw", true, "write the raw scraped series of the runs")
	records := flag.Bool("records", true, "write each nightly run's record, built as perfbase run builds it")
	flag.Parse()
	if *dir == "" || *n < 1 || *months < 1 || *batch < 0 || !*raw && !*records {
		fmt.Fprintln(os.Stderr, "histgen: -data-dir, -interfaces >= 1, -months >= 1 and -batch >= 0 are required")
		return 2
	}
	if *batch == 0 {
		*batch = *n
	}
	if _, err := os.Stat(*dir); err == nil {
		fmt.Fprintf(os.Stderr, "histgen: %s exists; give a new directory\n", *dir)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	db, err := store.Open(*dir, store.DefaultOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, "histgen:", err)
		return 1
	}
	defer func() {
		if err := db.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "histgen:", err)
			code = 1
		}
	}()

	last := analyzer.MonthOf(time.Now(), time.UTC).Add(-1)
	began := time.Now()
	total := 0
	for m := last.Add(-(*months - 1)); !last.Before(m); m = m.Add(1) {
		for first := 0; first < *n; first += *batch {
			cfg := synth.Config{
				Start: m.Start(time.UTC), End: m.End(time.UTC), Seed: uint64(first + 1),
				RunDuration: *runDuration, Interval: *interval, Weekly: 0.15, MissingDays: 0.03,
			}
			for i := first; i < min(first+*batch, *n); i++ {
				cfg.Interfaces = append(cfg.Interfaces, synth.Interface{
					Name: fmt.Sprintf("iface_%04d", i), RPS: 20 + float64(i%50),
					Median: time.Duration(5+i%40) * time.Millisecond, Sigma: 0.4,
					BusinessFailure: 0.01, SystemFailure: 0.002,
				})
			}
			samples, err := write(ctx, db, cfg, *raw, *records)
			if err != nil {
				fmt.Fprintf(os.Stderr, "histgen: %s: %v\n", m, err)
				return 1
			}
			total += samples
		}
	}
	fmt.Printf("histgen: %d interfaces, %d months up to %s, %d samples in %s; report month %s\n",
		*n, *months, last, total, time.Since(began).Round(time.Millisecond), last)
	return 0
}

// write writes one month of cfg into one block: the raw series of the
// nightly runs and, when asked, their records.
func write(ctx context.Context, db *store.DB, cfg synth.Config, raw, records bool) (int, error) {
	bulk, err := db.NewBulk(ctx)
	if err != nil {
		return 0, err
	}
	app := func(ls labels.Labels, t int64, v float64) error { return bulk.Append(ctx, ls, t, v) }
	if raw {
		if err := cfg.Generate(app); err != nil {
			return 0, errors.Join(err, bulk.Rollback())
		}
	}
	if records {
		if err := appendRecords(cfg, app); err != nil {
			return 0, errors.Join(err, bulk.Rollback())
		}
	}
	n := bulk.Samples()
	if _, err := bulk.Commit(ctx); err != nil {
		return 0, err
	}
	return n, nil
}

// appendRecords appends the record of each night's run of cfg's
// interfaces (runs at 02:00 UTC lasting cfg.RunDuration, one-minute
// windows), generated as runs and built into records through the
// runrecord.Builder the loader uses.
func appendRecords(cfg synth.Config, app func(labels.Labels, int64, float64) error) error {
	rc := synth.RunsConfig{Seed: cfg.Seed, Interfaces: cfg.Interfaces, MinDuration: cfg.RunDuration, MaxDuration: cfg.RunDuration}
	for day := cfg.Start; day.Before(cfg.End); day = day.AddDate(0, 0, 1) {
		rc.Times = append(rc.Times, day.Add(2*time.Hour))
	}
	runs, err := rc.Runs()
	if err != nil {
		return err
	}
	for _, r := range runs {
		rec, err := runhist.Record(r, "nightly")
		if err != nil {
			return err
		}
		ss, err := runrecord.Encode(rec)
		if err != nil {
			return err
		}
		for _, x := range ss {
			if err := app(x.Labels, x.T, x.V); err != nil {
				return err
			}
		}
	}
	return nil
}
