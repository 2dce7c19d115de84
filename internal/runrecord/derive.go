package runrecord

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Querier runs instant PromQL queries; the embedded store and remote
// backends satisfy it.
type Querier interface {
	Query(ctx context.Context, expr string, ts time.Time) (model.Value, error)
}

// OldRun is a run-shard found in the raw series.
type OldRun struct {
	RunID, Scenario, Mode, Shard string
	Start, End                   time.Time
}

// FindOldRuns lists the run-shards whose raw series (perfbase_run_info,
// start and end) lie in (at-lookback, at], for runs stored before records
// existed. A run without an end (its loader was killed) is left out.
func FindOldRuns(ctx context.Context, q Querier, at time.Time, lookback time.Duration) ([]OldRun, error) {
	r := model.Duration(lookback).String()
	by := c.LabelRunID + ", " + c.LabelShard
	exprs := []string{
		fmt.Sprintf("max by (%s, %s, %s) (max_over_time(%s[%s]))", by, c.LabelScenario, c.LabelMode, c.MetricRunInfo, r),
		fmt.Sprintf("min by (%s) (min_over_time(%s[%s]))", by, c.MetricRunStart, r),
		fmt.Sprintf("max by (%s) (max_over_time(%s[%s]))", by, c.MetricRunEnd, r),
	}
	var vecs [3]model.Vector
	for i, e := range exprs {
		v, err := q.Query(ctx, e, at)
		if err != nil {
			return nil, fmt.Errorf("runrecord: could not list old runs: %w", err)
		}
		vec, ok := v.(model.Vector)
		if !ok {
			return nil, fmt.Errorf("runrecord: %s returned %s, want a vector", e, v.Type())
		}
		vecs[i] = vec
	}
	key := func(m model.Metric) string { return string(m[c.LabelRunID]) + "\x00" + string(m[c.LabelShard]) }
	runs := map[string]*OldRun{}
	for _, s := range vecs[0] {
		runs[key(s.Metric)] = &OldRun{RunID: string(s.Metric[c.LabelRunID]), Scenario: string(s.Metric[c.LabelScenario]),
			Mode: string(s.Metric[c.LabelMode]), Shard: string(s.Metric[c.LabelShard])}
	}
	for i, set := range []func(*OldRun, time.Time){
		func(r *OldRun, t time.Time) { r.Start = t },
		func(r *OldRun, t time.Time) { r.End = t },
	} {
		for _, s := range vecs[i+1] {
			if r := runs[key(s.Metric)]; r != nil && float64(s.Value) > 0 && !math.IsInf(float64(s.Value), 0) {
				set(r, time.UnixMilli(int64(math.Round(float64(s.Value)*1000))).UTC())
			}
		}
	}
	var out []OldRun
	for _, r := range runs {
		if r.RunID != "" && !r.Start.IsZero() && r.End.After(r.Start) {
			out = append(out, *r)
		}
	}
	return out, nil
}

// deriveSettle is how long after a run's end its last scrape may come (the
// final scrape follows the load's end).
const deriveSettle = 30 * time.Second

// Derive builds the record of an old run-shard from its raw series: the
// cumulative steady-phase state at each window boundary (SnapshotQueries)
// fed to a Builder, as a live run does. The steady phase is taken to
// start with the run (the raw series do not say when the warm-up ended;
// warm-up requests are not counted, so only the first window is longer).
func Derive(ctx context.Context, q Querier, r OldRun) (Record, error) {
	o := DefaultOptions()
	o.Planned = r.End.Sub(r.Start)
	b, err := NewBuilder(r.Start, o)
	if err != nil {
		return Record{}, err
	}
	ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, c.LabelRunID, r.RunID)}
	if r.Shard != "" {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, c.LabelShard, r.Shard))
	}
	qs := SnapshotQueries(ms...)
	end := r.End.Add(deriveSettle)
	snap := func(t time.Time) error {
		var res SnapshotResults
		for _, x := range []struct {
			expr string
			dst  *model.Value
		}{{qs.Requests, &res.Requests}, {qs.Scheduled, &res.Scheduled}, {qs.Dropped, &res.Dropped}, {qs.Buckets, &res.Buckets}} {
			v, err := q.Query(ctx, x.expr, t)
			if err != nil {
				return err
			}
			*x.dst = v
		}
		s, err := FromPromQL(t, res)
		if err != nil {
			return err
		}
		return b.Add(s)
	}
	for t := b.Next(); t.Before(end); t = b.Next() {
		if err := snap(t); err != nil {
			return Record{}, fmt.Errorf("runrecord: deriving run %q: %w", r.RunID, err)
		}
	}
	if err := snap(end); err != nil {
		return Record{}, fmt.Errorf("runrecord: deriving run %q: %w", r.RunID, err)
	}
	shard, shards := c.RecordShardUnsharded, 1
	if r.Shard != "" {
		if _, n, err := ParseShard(r.Shard); err == nil {
			shard, shards = r.Shard, n
		}
	}
	scenario := r.Scenario
	if scenario == "" {
		scenario = r.RunID
	}
	return b.Build(Meta{RunID: r.RunID, Scenario: scenario, Mode: r.Mode, Shard: shard, Shards: shards,
		Status: c.RecordStatusCompleted, Thresholds: c.RecordThresholdsNone, Start: r.Start, SteadyStart: r.Start, End: end}, nil)
}
