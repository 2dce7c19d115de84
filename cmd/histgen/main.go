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
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/synth"
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
	flag.Parse()
	if *dir == "" || *n < 1 || *months < 1 || *batch < 0 {
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
			samples, err := write(ctx, db, cfg)
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

func write(ctx context.Context, db *store.DB, cfg synth.Config) (int, error) {
	bulk, err := db.NewBulk(ctx)
	if err != nil {
		return 0, err
	}
	if err := cfg.Generate(func(ls labels.Labels, t int64, v float64) error { return bulk.Append(ctx, ls, t, v) }); err != nil {
		_ = bulk.Rollback()
		return 0, err
	}
	n := bulk.Samples()
	if _, err := bulk.Commit(ctx); err != nil {
		return 0, err
	}
	return n, nil
}
