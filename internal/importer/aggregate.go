package importer

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/series"
)

// Sink receives the samples of imported runs, in ascending time: every
// sample of tick T before any of a later tick.
type Sink interface {
	Append(ls labels.Labels, t int64, v float64) error
}

// aggregator turns records into the cumulative counters and classic
// histograms a live run exports, sampled every interval at multiples of
// interval since the epoch, as if scraped: the sample at T counts every
// request completed before T.
//
// Input may be a little out of order (JMeter writes a row when its
// request ends, threads interleave): a tick is emitted once a record at
// least reorder later has been seen. A record for an already emitted tick
// is counted in the next one (and in Stats.Late).
//
// Each interface is sampled from its first record's tick until idle ticks
// after its last record, then not at all until its next record; so months
// between test sessions cost nothing, and its series are absent (not
// flat) in the gaps, as with a live run that has ended.
type aggregator struct {
	runID    string
	interval int64 // ms
	reorder  int64 // ms
	idle     int64 // ms
	maxIfs   int
	sink     Sink
	buckets  []float64

	ifaces  map[string]*ifaceState
	order   []*ifaceState
	pending map[int64][]pendingRec // tick -> records
	emitted int64                  // last emitted tick, 0 before any
	maxSeen int64                  // latest tick seen
	first   int64                  // first record's completion, ms
	last    int64                  // last record's completion, ms

	rec       *recorder
	runInfo   labels.Labels
	runStart  labels.Labels
	runEnd    labels.Labels
	samples   int
	late      int
	finishing bool
}

type pendingRec struct {
	iface   *ifaceState
	latency float64 // seconds
	outcome int
	reason  string
}

type outcomeState struct {
	count   float64
	sum     float64
	buckets []float64 // per bound, last is +Inf; made cumulative when emitted
}

type ifaceState struct {
	name       string
	series     *series.Interface
	outcomes   [3]*outcomeState
	out        series.Outcomes // scratch for emitting
	scheduled  float64
	failures   map[string]float64
	reasons    []string // first-seen order, for a stable emission order
	lastActive int64    // tick of the last record
	live       bool
}

func newAggregator(runID, scenario, mode string, interval, reorder, idle time.Duration, maxIfs int, sink Sink) *aggregator {
	a := &aggregator{
		runID: runID, interval: interval.Milliseconds(), reorder: reorder.Milliseconds(), idle: idle.Milliseconds(),
		maxIfs: maxIfs, sink: sink, buckets: conventions.DurationBuckets(),
		ifaces: map[string]*ifaceState{}, pending: map[int64][]pendingRec{},
		first: math.MaxInt64, last: math.MinInt64,
		rec: newRecorder(runID, scenario, mode, interval),
	}
	a.runInfo = labels.FromStrings(model.MetricNameLabel, conventions.MetricRunInfo, conventions.LabelRunID, runID,
		conventions.LabelScenario, scenario, conventions.LabelMode, mode)
	a.runStart = labels.FromStrings(model.MetricNameLabel, conventions.MetricRunStart, conventions.LabelRunID, runID)
	a.runEnd = labels.FromStrings(model.MetricNameLabel, conventions.MetricRunEnd, conventions.LabelRunID, runID)
	return a
}

var outcomeIndex = map[string]int{
	conventions.OutcomeSuccess:         0,
	conventions.OutcomeBusinessFailure: 1,
	conventions.OutcomeSystemFailure:   2,
}

func (a *aggregator) iface(name string) (*ifaceState, error) {
	if s, ok := a.ifaces[name]; ok {
		return s, nil
	}
	if len(a.ifaces) >= a.maxIfs {
		return nil, fmt.Errorf("more than %d interfaces (the %dth is %q): map URLs or labels to fewer interfaces with --map", a.maxIfs, a.maxIfs+1, name)
	}
	s := &ifaceState{name: name, series: series.New(a.runID, name), failures: map[string]float64{}}
	for o := range conventions.Outcomes {
		s.outcomes[o] = &outcomeState{buckets: make([]float64, len(a.buckets)+1)}
		s.out.Buckets[o] = make([]float64, len(a.buckets)+1)
	}
	a.ifaces[name] = s
	a.order = append(a.order, s)
	return s, nil
}

// add takes one record, emitting the ticks it makes final.
func (a *aggregator) add(r Record) error {
	s, err := a.iface(r.Interface)
	if err != nil {
		return err
	}
	done := r.Done.UnixMilli()
	a.first = min(a.first, done)
	a.last = max(a.last, done)
	tick := (floorDiv(done, a.interval) + 1) * a.interval
	if a.emitted != 0 && tick <= a.emitted {
		tick = a.emitted + a.interval
		a.late++
	}
	a.pending[tick] = append(a.pending[tick], pendingRec{iface: s, latency: r.Latency.Seconds(), outcome: outcomeIndex[r.Outcome], reason: r.Reason})
	if tick > a.maxSeen {
		a.maxSeen = tick
	}
	// Emit every tick that no in-order record can reach any more.
	return a.emitUpTo(a.maxSeen - a.reorder - a.interval)
}

// finish emits everything left, with the run's end time on the last tick.
func (a *aggregator) finish() error {
	a.finishing = true
	if len(a.pending) == 0 && a.emitted == 0 {
		return nil
	}
	if err := a.emitUpTo(math.MaxInt64); err != nil {
		return err
	}
	a.rec.finish()
	return a.rec.err
}

// records are the run records of the import, once finished: one per
// session of the file.
func (a *aggregator) records() []runrecord.Record { return a.rec.records }

// writeRecords appends the records' samples to the sink, after the run's
// own samples (record series are their own series, each in time order).
func (a *aggregator) writeRecords() error {
	for _, r := range a.rec.records {
		ss, err := runrecord.Encode(r)
		if err != nil {
			return fmt.Errorf("run record: %w", err)
		}
		for _, x := range ss {
			if err := a.append(x.Labels, x.T, x.V); err != nil {
				return err
			}
		}
	}
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// emitUpTo emits ticks up to and including limit: ticks with records, and
// ticks in which some interface is live.
func (a *aggregator) emitUpTo(limit int64) error {
	for {
		next := int64(math.MaxInt64)
		if a.emitted != 0 && a.anyLive() {
			next = a.emitted + a.interval
		}
		for t := range a.pending {
			next = min(next, t)
		}
		if next == math.MaxInt64 || next > limit {
			return nil
		}
		if err := a.emit(next); err != nil {
			return err
		}
	}
}

func (a *aggregator) anyLive() bool {
	for _, s := range a.order {
		if s.live {
			return true
		}
	}
	return false
}

func (a *aggregator) emit(t int64) error {
	a.rec.tick(t, a.pending[t], a.buckets)
	for _, p := range a.pending[t] {
		s := p.iface
		os := s.outcomes[p.outcome]
		os.count++
		os.sum += p.latency
		i := sort.SearchFloat64s(a.buckets, p.latency) // first bound >= latency: le is inclusive
		os.buckets[i]++                                // non-cumulative here; made cumulative when emitted
		s.scheduled++
		if p.reason != "" {
			if _, ok := s.failures[p.reason]; !ok {
				s.reasons = append(s.reasons, p.reason)
			}
			s.failures[p.reason]++
		}
		s.lastActive = t
		s.live = true
	}
	delete(a.pending, t)
	a.emitted = t

	final := a.finishing && len(a.pending) == 0 && !a.liveAfter(t)
	any := false
	for _, s := range a.order {
		if !s.live {
			continue
		}
		any = true
		if err := a.emitIface(s, t); err != nil {
			return err
		}
		if t-s.lastActive >= a.idle {
			s.live = false
		}
	}
	if any {
		end := 0.0
		if final {
			end = float64(a.last) / 1000
		}
		for _, x := range []struct {
			ls labels.Labels
			v  float64
		}{{a.runInfo, 1}, {a.runStart, float64(a.first) / 1000}, {a.runEnd, end}} {
			if err := a.append(x.ls, t, x.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveAfter says whether some interface will still be sampled after t.
func (a *aggregator) liveAfter(t int64) bool {
	for _, s := range a.order {
		if s.live && t-s.lastActive < a.idle {
			return true
		}
	}
	return false
}

func (a *aggregator) append(ls labels.Labels, t int64, v float64) error {
	a.samples++
	return a.sink.Append(ls, t, v)
}

func (a *aggregator) emitIface(s *ifaceState, t int64) error {
	for o, os := range s.outcomes {
		s.out.Requests[o], s.out.Sum[o] = os.count, os.sum
		cum := 0.0
		for i, n := range os.buckets {
			cum += n
			s.out.Buckets[o][i] = cum
		}
	}
	ph := conventions.PhaseSteady
	if err := s.series.AppendOutcomes(a.append, t, ph, &s.out); err != nil {
		return err
	}
	if err := s.series.AppendSchedule(a.append, t, ph, s.scheduled, 0); err != nil {
		return err
	}
	for _, r := range s.reasons {
		if err := s.series.AppendFailure(a.append, t, ph, r, s.failures[r]); err != nil {
			return err
		}
	}
	return nil
}
