// Package runhist writes run records as history into the embedded store:
// records of generated pressure-test runs (analyzer/synth), built the way
// a live run builds them (cumulative steady-phase snapshots at every
// window boundary fed to a runrecord.Builder), for the benchmark history
// (cmd/histgen) and the tests of reports over runs; and records derived
// once from the raw series of runs stored before records existed.
package runhist

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
)

// Record builds the record of one generated run of scenario (one shard,
// completed, thresholds none) through a runrecord.Builder.
func Record(run synth.Run, scenario string) (runrecord.Record, error) {
	bounds := c.DurationBuckets()
	var steady time.Duration
	if len(run.Interfaces) > 0 && len(run.Interfaces[0].Windows) > 0 {
		ws := run.Interfaces[0].Windows
		steady = ws[len(ws)-1].End.Sub(ws[0].Start)
	}
	o := runrecord.DefaultOptions()
	o.Planned = steady
	b, err := runrecord.NewBuilder(run.Start, o)
	if err != nil {
		return runrecord.Record{}, err
	}
	cum := make([]runrecord.InterfaceSnapshot, len(run.Interfaces))
	windows := 0
	for _, in := range run.Interfaces {
		windows = max(windows, len(in.Windows))
	}
	end := run.Start
	for w := range windows {
		snap := runrecord.Snapshot{Interfaces: map[string]runrecord.InterfaceSnapshot{}}
		for i, in := range run.Interfaces {
			if w >= len(in.Windows) {
				continue
			}
			win := in.Windows[w]
			is := &cum[i]
			is.Requests.Success += win.Success
			is.Requests.BusinessFailure += win.BusinessFailure
			is.Requests.SystemFailure += win.SystemFailure
			is.Scheduled += win.Scheduled
			is.Dropped += win.Dropped
			if is.Buckets == nil {
				is.Buckets = make([]runrecord.Bucket, len(bounds)+1)
				for j := range is.Buckets {
					is.Buckets[j].UpperBound = math.Inf(1)
					if j < len(bounds) {
						is.Buckets[j].UpperBound = bounds[j]
					}
				}
			}
			if len(win.Buckets) != len(is.Buckets) {
				return runrecord.Record{}, fmt.Errorf("runhist: run %s, %s window %d: %d buckets for %d bounds", run.ID, in.Name, w, len(win.Buckets), len(bounds))
			}
			next := make([]runrecord.Bucket, len(is.Buckets))
			for j := range next {
				next[j] = runrecord.Bucket{UpperBound: is.Buckets[j].UpperBound, Count: is.Buckets[j].Count + win.Buckets[j]}
			}
			is.Buckets = next
			snap.Interfaces[in.Name] = *is
			if win.End.After(end) {
				end = win.End
			}
		}
		snap.Time = end
		if err := b.Add(snap); err != nil {
			return runrecord.Record{}, err
		}
	}
	active := map[string]float64{}
	for _, in := range run.Interfaces {
		active[in.Name] = in.Active
	}
	return b.Build(runrecord.Meta{
		RunID: run.ID, Scenario: scenario, Shard: c.RecordShardUnsharded, Shards: 1, Mode: "mixed",
		Status: c.RecordStatusCompleted, Thresholds: c.RecordThresholdsNone,
		Start: run.Start, SteadyStart: run.Start, End: end,
	}, active)
}

// Write appends the records, oldest first, to the store as one block (a
// month of history, say): runs of one scenario and shard must not overlap.
func Write(ctx context.Context, db *store.DB, recs []runrecord.Record) (int, error) {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b runrecord.Record) int { return a.Meta.End.Compare(b.Meta.End) })
	bulk, err := db.NewBulk(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		ss, err := runrecord.Encode(r)
		if err != nil {
			return 0, errors.Join(err, bulk.Rollback())
		}
		for _, s := range ss {
			if err := bulk.Append(ctx, s.Labels, s.T, s.V); err != nil {
				return 0, errors.Join(fmt.Errorf("runhist: run %s: %w", r.Meta.RunID, err), bulk.Rollback())
			}
		}
		n += len(ss)
	}
	if _, err := bulk.Commit(ctx); err != nil {
		return 0, err
	}
	return n, nil
}
