package analyzer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/runrecord"
)

// Runs are read from their records (internal/runrecord): one compact
// record per run, shard and interface, written when the run ends. Reading
// a run costs a few instant queries, whatever the run's length, instead of
// every scrape of it.

// RunInfo describes one run (its shards together).
type RunInfo struct {
	RunID    string `json:"run_id"`
	Scenario string `json:"scenario"`
	Mode     string `json:"mode,omitempty"`
	// Shards is how many loaders ran it, and Recorded how many of them
	// left a record.
	Shards   int `json:"shards"`
	Recorded int `json:"recorded_shards"`
	// Status is completed, interrupted or guard_aborted (the worst of the
	// shards); Thresholds passed, failed or none.
	Status     string `json:"status"`
	Thresholds string `json:"thresholds"`
	// Start (warm-up included), SteadyStart and End span the shards.
	Start       time.Time `json:"start"`
	SteadyStart time.Time `json:"steady_start"`
	End         time.Time `json:"end"`
	// Interfaces and Requests are filled by ListRuns when asked to count.
	Interfaces int     `json:"interfaces"`
	Requests   float64 `json:"requests"`
	// FailuresFiles are where the shards wrote failure samples.
	FailuresFiles []string `json:"failures_files,omitempty"`
	// GeneratorSaturated: in some shard the load generator, not the
	// target, limited the run.
	GeneratorSaturated bool `json:"generator_saturated,omitempty"`

	metas []runrecord.Meta
}

// RunQuery selects runs by scenario and start time.
type RunQuery struct {
	// Scenario, when set, selects one scenario.
	Scenario string
	// From and To bound the runs' start, To exclusive; the zero To is now.
	From, To time.Time
	// Count fills Interfaces and Requests, reading every interface's
	// totals: more data than the listing alone.
	Count bool
}

// ErrNoRuns is returned when no run matches what was asked.
var ErrNoRuns = errors.New("no run record found")

// ListRuns returns the runs whose records start in [From, To), oldest
// first.
func ListRuns(ctx context.Context, q Querier, rq RunQuery) ([]RunInfo, error) {
	to := rq.To
	if to.IsZero() {
		to = time.Now()
	}
	if !rq.From.Before(to) {
		return nil, fmt.Errorf("%w: runs from %s to %s: an empty range", ErrInvalidOptions, rq.From.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	// Records are stamped at their run's end, which may fall after To
	// for a run that started before it: look a day further.
	at := to.Add(24 * time.Hour)
	rqq := runrecord.Query{Range: at.Sub(rq.From)}
	if rq.Scenario != "" {
		rqq.Matchers = []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, c.LabelScenario, rq.Scenario)}
	}
	metrics := []string{c.MetricRecordInfo, c.MetricRecordStart, c.MetricRecordSteadyStart}
	if rq.Count {
		metrics = append(metrics, c.MetricRecordRequests)
	}
	var mats []model.Matrix
	for _, m := range metrics {
		e, err := rqq.Expr(m)
		if err != nil {
			return nil, err
		}
		v, err := q.Query(ctx, e, at)
		if err != nil {
			return nil, fmt.Errorf("could not list runs: %w", err)
		}
		mat, ok := v.(model.Matrix)
		if !ok {
			return nil, fmt.Errorf("could not list runs: %s returned %s, want a matrix", e, v.Type())
		}
		mats = append(mats, mat)
	}
	recs, err := runrecord.Decode(mats...)
	if err != nil && len(recs) == 0 {
		return nil, fmt.Errorf("could not read run records: %w", err)
	}
	byID := map[string]*RunInfo{}
	for _, r := range recs {
		m := r.Meta
		if m.Start.Before(rq.From) || !m.Start.Before(to) {
			continue
		}
		ri := byID[m.RunID]
		if ri == nil {
			ri = &RunInfo{RunID: m.RunID, Scenario: m.Scenario, Mode: m.Mode, Shards: m.Shards,
				Status: m.Status, Thresholds: m.Thresholds, Start: m.Start, SteadyStart: m.SteadyStart, End: m.End}
			byID[m.RunID] = ri
		}
		ri.Recorded++
		ri.metas = append(ri.metas, m)
		ri.Start, ri.End = minTime(ri.Start, m.Start), maxTime(ri.End, m.End)
		ri.SteadyStart = minTime(ri.SteadyStart, m.SteadyStart)
		ri.Status = worseStatus(ri.Status, m.Status)
		if m.FailuresFile != "" {
			ri.FailuresFiles = append(ri.FailuresFiles, m.FailuresFile)
		}
		ri.GeneratorSaturated = ri.GeneratorSaturated || m.GeneratorSaturated
		if m.Thresholds == c.RecordThresholdsFailed || ri.Thresholds == c.RecordThresholdsNone {
			ri.Thresholds = m.Thresholds
		}
		ri.Interfaces = max(ri.Interfaces, len(r.Interfaces))
		for _, ir := range r.Interfaces {
			ri.Requests += ir.Requests.Completed()
		}
	}
	out := make([]RunInfo, 0, len(byID))
	for _, ri := range byID {
		out = append(out, *ri)
	}
	slices.SortFunc(out, func(a, b RunInfo) int {
		if d := a.Start.Compare(b.Start); d != 0 {
			return d
		}
		return compareStrings(a.RunID, b.RunID)
	})
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// worseStatus keeps the status that says most about what went wrong.
func worseStatus(a, b string) string {
	rank := func(s string) int { return slices.Index(c.RecordStatuses, s) }
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// loadRuns reads the full records of runs (every shard) and returns each
// run's interfaces as run samples, shards merged, keyed by run id then
// interface. Runs are read one shard at a time, each with a range that
// covers exactly its steady phase, so memory follows the runs asked for,
// not the history.
func (f *fetcher) loadRuns(ctx context.Context, runs []RunInfo) (map[string]map[string]runSample, error) {
	type job struct {
		run  string
		meta runrecord.Meta
	}
	var jobs []job
	for _, r := range runs {
		for _, m := range r.metas {
			jobs = append(jobs, job{r.RunID, m})
		}
	}
	shards := make([][]runrecord.Record, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, max(1, f.parallel))
	done := make(chan struct{})
	for i, j := range jobs {
		go func() {
			defer func() { done <- struct{}{} }()
			sem <- struct{}{}
			defer func() { <-sem }()
			shards[i], errs[i] = readRecord(ctx, f.q, j.meta)
		}()
	}
	for range jobs {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	byRun := map[string]map[string][]runSample{}
	for i, j := range jobs {
		for _, rec := range shards[i] {
			if rec.Meta.RunID != j.run {
				continue
			}
			m := byRun[j.run]
			if m == nil {
				m = map[string][]runSample{}
				byRun[j.run] = m
			}
			for _, ir := range rec.Interfaces {
				m[ir.Name] = append(m[ir.Name], sampleOf(rec.Meta, ir))
			}
		}
	}
	out := map[string]map[string]runSample{}
	for run, ifaces := range byRun {
		out[run] = map[string]runSample{}
		for name, ss := range ifaces {
			s, err := mergeRunShards(ss)
			if err != nil {
				return nil, fmt.Errorf("run %q, interface %q: %w", run, name, err)
			}
			out[run][name] = s
		}
	}
	return out, nil
}

// loadRunsByMonth reads many runs at once: one set of range queries per
// calendar month of their ends, instead of one per run-shard, so a year of
// nightly runs costs a dozen passes over the record series, not hundreds.
// Months are read one after another to bound memory; windows are kept
// only for the runs in windows (the others feed trends and charts, which
// need their totals).
func (f *fetcher) loadRunsByMonth(ctx context.Context, runs []RunInfo, windows map[string]bool) (map[string]map[string]runSample, error) {
	type chunk struct {
		lo, hi time.Time
		want   map[string]bool
	}
	chunks := map[Month]*chunk{}
	for _, r := range runs {
		for _, m := range r.metas {
			key := MonthOf(m.End, time.UTC)
			ch := chunks[key]
			if ch == nil {
				ch = &chunk{lo: m.SteadyStart, hi: m.End, want: map[string]bool{}}
				chunks[key] = ch
			}
			ch.lo, ch.hi = minTime(ch.lo, m.SteadyStart), maxTime(ch.hi, m.End)
			ch.want[r.RunID] = true
		}
	}
	keys := slices.SortedFunc(mapsKeysM(chunks), func(a, b Month) int { return a.Start(time.UTC).Compare(b.Start(time.UTC)) })
	byRun := map[string]map[string][]runSample{}
	for _, key := range keys {
		ch := chunks[key]
		exprs, err := runrecord.Query{Range: ch.hi.Sub(ch.lo) + time.Millisecond}.Exprs()
		if err != nil {
			return nil, err
		}
		vals, err := f.all(ctx, exprs, func(ctx context.Context, e string) (model.Value, error) {
			return f.q.Query(ctx, e, ch.hi)
		})
		if err != nil {
			return nil, fmt.Errorf("could not read the runs of %s: %w", key, err)
		}
		mats := make([]model.Matrix, 0, len(vals))
		for i, v := range vals {
			mat, ok := v.(model.Matrix)
			if !ok {
				return nil, fmt.Errorf("could not read runs: %s returned %s, want a matrix", exprs[i], v.Type())
			}
			mats = append(mats, mat)
		}
		recs, derr := runrecord.Decode(mats...)
		got := map[string]bool{}
		for _, rec := range recs {
			id := rec.Meta.RunID
			if !ch.want[id] || rec.Meta.End.After(ch.hi) || rec.Meta.End.Before(ch.lo) {
				continue
			}
			got[id] = true
			m := byRun[id]
			if m == nil {
				m = map[string][]runSample{}
				byRun[id] = m
			}
			for _, ir := range rec.Interfaces {
				s := sampleOf(rec.Meta, ir)
				if !windows[id] {
					s.Windows = nil
				}
				m[ir.Name] = append(m[ir.Name], s)
			}
		}
		for id := range ch.want {
			if !got[id] {
				if derr != nil {
					return nil, fmt.Errorf("could not read run %q: %w", id, derr)
				}
				return nil, fmt.Errorf("run %q: its record disappeared while reading", id)
			}
		}
	}
	out := map[string]map[string]runSample{}
	for run, ifaces := range byRun {
		out[run] = map[string]runSample{}
		for name, ss := range ifaces {
			s, err := mergeRunShards(ss)
			if err != nil {
				return nil, fmt.Errorf("run %q, interface %q: %w", run, name, err)
			}
			out[run][name] = s
		}
	}
	return out, nil
}

func mapsKeysM[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// readRecord reads the record of one run-shard: every record series of its
// scenario and shard over its steady phase, at its end.
func readRecord(ctx context.Context, q Querier, m runrecord.Meta) ([]runrecord.Record, error) {
	rq := runrecord.Query{
		Range: m.End.Sub(m.SteadyStart) + time.Millisecond,
		Matchers: []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, c.LabelScenario, m.Scenario),
			labels.MustNewMatcher(labels.MatchEqual, c.LabelShard, m.Shard),
		},
	}
	if rq.Range < time.Millisecond {
		rq.Range = time.Millisecond
	}
	exprs, err := rq.Exprs()
	if err != nil {
		return nil, err
	}
	mats := make([]model.Matrix, 0, len(exprs))
	for _, e := range exprs {
		v, err := q.Query(ctx, e, m.End)
		if err != nil {
			return nil, fmt.Errorf("could not read run %q shard %s: %w", m.RunID, m.Shard, err)
		}
		mat, ok := v.(model.Matrix)
		if !ok {
			return nil, fmt.Errorf("could not read run %q: %s returned %s, want a matrix", m.RunID, e, v.Type())
		}
		mats = append(mats, mat)
	}
	recs, err := runrecord.Decode(mats...)
	for _, r := range recs {
		if r.Meta.RunID == m.RunID && r.Meta.End.Equal(m.End) {
			return []runrecord.Record{r}, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("could not read run %q shard %s: %w", m.RunID, m.Shard, err)
	}
	return nil, fmt.Errorf("run %q shard %s: its record disappeared while reading", m.RunID, m.Shard)
}

// sampleOf turns one interface of a record into a run sample.
func sampleOf(m runrecord.Meta, ir runrecord.InterfaceRecord) runSample {
	s := runSample{RunID: m.RunID, Scenario: m.Scenario, Start: m.SteadyStart, End: m.End, Active: ir.ActiveSeconds,
		Counts: Counts{Success: ir.Requests.Success, BusinessFailure: ir.Requests.BusinessFailure,
			SystemFailure: ir.Requests.SystemFailure, Scheduled: ir.Scheduled, Dropped: ir.Dropped}}
	// Sized exactly: a year of runs holds hundreds of thousands of these.
	s.Buckets = make([]float64, len(ir.Buckets))
	standard := len(ir.Buckets) == len(durationBounds)+1
	for i, b := range ir.Buckets {
		s.Buckets[i] = b.Count
		if i < len(durationBounds) && b.UpperBound != durationBounds[i] || i == len(durationBounds) && !math.IsInf(b.UpperBound, 1) {
			standard = false
		}
	}
	if !standard {
		s.Bounds = make([]float64, 0, len(ir.Buckets))
		for _, b := range ir.Buckets {
			if !math.IsInf(b.UpperBound, 1) {
				s.Bounds = append(s.Bounds, b.UpperBound)
			}
		}
	}
	if len(ir.Windows) > 0 {
		s.Windows = make([]runWindow, 0, len(ir.Windows))
	}
	for _, w := range ir.Windows {
		rw := runWindow{Start: w.Start, End: w.End, P50: math.NaN(), P90: math.NaN(), P99: math.NaN(),
			Counts: Counts{Success: w.Requests.Success, BusinessFailure: w.Requests.BusinessFailure, SystemFailure: w.Requests.SystemFailure}}
		for i, q := range runrecord.WindowQuantiles {
			if i >= len(w.Latency) {
				break
			}
			switch q {
			case 0.5:
				rw.P50 = w.Latency[i]
			case 0.9:
				rw.P90 = w.Latency[i]
			case 0.99:
				rw.P99 = w.Latency[i]
			}
		}
		s.Windows = append(s.Windows, rw)
	}
	return s
}

// runNames lists the interfaces of a set of runs, sorted.
func runNames(sides ...map[string][]runSample) []string {
	names := map[string]bool{}
	for _, side := range sides {
		for n := range side {
			names[n] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}
