package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/importer"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
	"github.com/perfbase/perfbase/loader/scenario"
)

// recordTick is how often the live registry is read for the run record:
// the windows' boundaries and the interfaces' active time are this exact.
const recordTick = time.Second

// recordKeeper builds a run's record (internal/runrecord) from its live
// registry while the load goes: cumulative steady-phase snapshots at every
// window boundary, and each interface's active seconds (ticks in which it
// completed requests, as the analyzer counts active time from samples).
type recordKeeper struct {
	g           prometheus.Gatherer
	start       time.Time
	steadyStart time.Time
	planned     time.Duration

	mu        sync.Mutex
	b         *runrecord.Builder
	active    map[string]float64
	completed map[string]float64
	lastTick  time.Time
	err       error
}

// newRecordKeeper prepares the record of a run of s started at start.
// The steady phase starts after the leading warm-up stages (of the first
// interface, in concentrated mode).
func newRecordKeeper(g prometheus.Gatherer, s *scenario.Scenario, start time.Time, window time.Duration) (*recordKeeper, error) {
	var lead time.Duration
	for _, st := range s.Stages {
		if !st.Warmup {
			break
		}
		lead += st.Duration.D()
	}
	o := runrecord.DefaultOptions()
	o.Window = window
	o.Planned = s.TotalDuration() - lead
	if o.Planned < 0 {
		o.Planned = 0
	}
	steady := start.Add(lead)
	b, err := runrecord.NewBuilder(steady, o)
	if err != nil {
		return nil, err
	}
	return &recordKeeper{g: g, start: start, steadyStart: steady, planned: o.Planned, b: b,
		active: map[string]float64{}, completed: map[string]float64{}, lastTick: steady}, nil
}

// run ticks until ctx is done.
func (k *recordKeeper) run(ctx context.Context) {
	t := time.NewTicker(recordTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			k.tick(now)
		}
	}
}

// tick reads the registry at now; before the steady phase it does nothing.
// The first error is kept and returned by finish.
func (k *recordKeeper) tick(now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil || !now.After(k.steadyStart) || !now.After(k.lastTick) {
		return
	}
	mfs, err := k.g.Gather()
	if err != nil {
		k.err = fmt.Errorf("run record: gather: %w", err)
		return
	}
	snap, err := runrecord.FromFamilies(now, mfs)
	if err != nil {
		k.err = fmt.Errorf("run record: %w", err)
		return
	}
	for name, is := range snap.Interfaces {
		if n := is.Requests.Completed(); n > k.completed[name] {
			k.active[name] += now.Sub(k.lastTick).Seconds()
			k.completed[name] = n
		}
	}
	k.lastTick = now
	if err := k.b.Add(snap); err != nil {
		k.err = fmt.Errorf("run record: %w", err)
	}
}

// finish takes the last snapshot at the end of the run and builds the
// record. It returns false when the run never reached its steady phase:
// there is nothing to record.
func (k *recordKeeper) finish(m runrecord.Meta) (runrecord.Record, bool, error) {
	k.tick(m.End)
	k.mu.Lock()
	defer k.mu.Unlock()
	// A tick between the load's end and this call read the same final
	// counts a few milliseconds later: the record ends there.
	if k.lastTick.After(m.End) {
		m.End = k.lastTick
	}
	// The keeper's clock started just before the loader's: the record's
	// run starts with the earlier of the two, so the steady phase, dated
	// from the keeper's, never starts before the run.
	if k.start.Before(m.Start) {
		m.Start = k.start
	}
	if k.err != nil {
		return runrecord.Record{}, false, k.err
	}
	if !m.End.After(k.steadyStart) {
		return runrecord.Record{}, false, nil
	}
	m.SteadyStart = k.steadyStart
	rec, err := k.b.Build(m, maps.Clone(k.active))
	if err != nil {
		return runrecord.Record{}, false, fmt.Errorf("run record: %w", err)
	}
	return rec, len(rec.Interfaces) > 0, nil
}

// recordMeta says who the run was and how it ended.
func recordMeta(o *Options, sum *loader.Summary) runrecord.Meta {
	status := c.RecordStatusCompleted
	switch {
	case sum.GuardAborted:
		status = c.RecordStatusGuardAborted
	case sum.Interrupted:
		status = c.RecordStatusInterrupted
	}
	thresholds := c.RecordThresholdsNone
	for _, is := range sum.Interfaces {
		if len(is.Thresholds) == 0 {
			continue
		}
		if thresholds == c.RecordThresholdsNone {
			thresholds = c.RecordThresholdsPassed
		}
		if !is.Passed {
			thresholds = c.RecordThresholdsFailed
		}
	}
	failures := sum.FailuresFile
	if abs, err := filepath.Abs(failures); err == nil && failures != "" {
		failures = abs // the report may run from anywhere
	}
	return runrecord.Meta{
		RunID: o.RunID, Scenario: o.Scenario.Name, Mode: o.Scenario.Mode,
		Shard: fmt.Sprintf("%d/%d", o.Shard.Index, o.Shard.Count), Shards: o.Shard.Count,
		Status: status, Thresholds: thresholds, Start: sum.Start, End: sum.End,
		FailuresFile: failures, GeneratorSaturated: sum.Generator.Saturated,
	}
}

// writeRecordStore appends the record's samples to the store's head in one
// transaction.
func writeRecordStore(ctx context.Context, db *store.DB, samples []runrecord.Sample) error {
	return db.AppendTx(ctx, func(app storage.Appender) error {
		for _, s := range samples {
			if _, err := app.Append(0, s.Labels, s.T, s.V); err != nil {
				return fmt.Errorf("run record: %w", err)
			}
		}
		return nil
	})
}

// writeRecordRemote sends the record's samples by remote write.
func writeRecordRemote(ctx context.Context, o *RecordRemote, runID string, samples []runrecord.Sample) (err error) {
	d, err := importer.NewRemoteWriteDestination(o.URL, o.HTTPConfig)
	if err != nil {
		return err
	}
	sink, err := d.Begin(ctx, runID)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Close(ctx, err == nil)) }()
	// Remote write wants each series' samples in time order; Encode keeps
	// a series' samples together and sorted.
	for _, s := range samples {
		if err := sink.Append(s.Labels, s.T, s.V); err != nil {
			_ = sink.Abort() // what a server took stays; the error says the record is incomplete
			return err
		}
	}
	_, err = sink.Commit(ctx)
	return err
}
