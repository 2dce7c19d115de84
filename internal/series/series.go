// Package series writes an interface's samples in the series layout a live
// perfbase run exports (the exporter's registry, scraped): requests by
// phase and outcome, latency histograms by phase and outcome (classic
// buckets, _sum, _count), scheduled and dropped by phase, failures by
// reason. Everything that produces that layout offline (the importer, the
// synthetic history) writes through it, so the label sets and the set of
// series cannot drift from what the analyzer, dashboards and alerts query.
package series

import (
	"fmt"
	"math"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// AppendFunc receives one sample; the samples of one series come in time
// order.
type AppendFunc func(ls labels.Labels, t int64, v float64) error

// Outcomes are an interface's cumulative figures in one phase, by outcome
// in conventions.Outcomes order.
type Outcomes struct {
	Requests [3]float64
	// Buckets are cumulative counts per conventions.DurationBuckets bound,
	// then +Inf (which equals Requests).
	Buckets [3][]float64
	// Sum is the latency sum in seconds.
	Sum [3]float64
}

// Interface holds the label sets of one interface's series, built once.
type Interface struct {
	run, name string
	extra     []string
	bounds    []float64
	phases    map[string]*phaseSeries
	failures  map[string]labels.Labels // phase + "\x00" + reason
}

type phaseSeries struct {
	requests           [3]labels.Labels
	buckets            [3][]labels.Labels // per bound, then +Inf
	sum, count         [3]labels.Labels
	scheduled, dropped labels.Labels
}

// New returns the series of interface name in run runID; extra are more
// label name/value pairs on every series (shard).
func New(runID, name string, extra ...string) *Interface {
	return &Interface{run: runID, name: name, extra: extra, bounds: c.DurationBuckets(),
		phases: map[string]*phaseSeries{}, failures: map[string]labels.Labels{}}
}

func (s *Interface) labels(metric, phase string, kv ...string) labels.Labels {
	b := labels.NewScratchBuilder(8)
	b.Add(model.MetricNameLabel, metric)
	b.Add(c.LabelRunID, s.run)
	b.Add(c.LabelInterface, s.name)
	b.Add(c.LabelPhase, phase)
	for i := 0; i+1 < len(s.extra); i += 2 {
		b.Add(s.extra[i], s.extra[i+1])
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b.Add(kv[i], kv[i+1])
	}
	b.Sort()
	return b.Labels()
}

func (s *Interface) phase(p string) *phaseSeries {
	if ps := s.phases[p]; ps != nil {
		return ps
	}
	ps := &phaseSeries{
		scheduled: s.labels(c.MetricRequestsScheduled, p),
		dropped:   s.labels(c.MetricRequestsDropped, p),
	}
	for o, out := range c.Outcomes {
		ps.requests[o] = s.labels(c.MetricRequestsTotal, p, c.LabelOutcome, out)
		for _, b := range append(s.bounds, math.Inf(1)) {
			ps.buckets[o] = append(ps.buckets[o], s.labels(c.MetricRequestDuration+"_bucket", p, c.LabelOutcome, out, c.LabelLe, c.FormatLe(b)))
		}
		ps.sum[o] = s.labels(c.MetricRequestDuration+"_sum", p, c.LabelOutcome, out)
		ps.count[o] = s.labels(c.MetricRequestDuration+"_count", p, c.LabelOutcome, out)
	}
	s.phases[p] = ps
	return ps
}

// AppendOutcomes writes the requests and latency histograms of one phase
// at t (ms).
func (s *Interface) AppendOutcomes(app AppendFunc, t int64, phase string, o *Outcomes) error {
	ps := s.phase(phase)
	for i := range c.Outcomes {
		if len(o.Buckets[i]) != len(s.bounds)+1 {
			return fmt.Errorf("series: %s %s: %d bucket counts for %d bounds and +Inf", s.name, c.Outcomes[i], len(o.Buckets[i]), len(s.bounds))
		}
		if err := app(ps.requests[i], t, o.Requests[i]); err != nil {
			return err
		}
		for j, ls := range ps.buckets[i] {
			if err := app(ls, t, o.Buckets[i][j]); err != nil {
				return err
			}
		}
		if err := app(ps.sum[i], t, o.Sum[i]); err != nil {
			return err
		}
		if err := app(ps.count[i], t, o.Requests[i]); err != nil {
			return err
		}
	}
	return nil
}

// AppendSchedule writes the scheduled and dropped counters of one phase.
func (s *Interface) AppendSchedule(app AppendFunc, t int64, phase string, scheduled, dropped float64) error {
	ps := s.phase(phase)
	if err := app(ps.scheduled, t, scheduled); err != nil {
		return err
	}
	return app(ps.dropped, t, dropped)
}

// AppendFailure writes the counter of one failure reason of one phase.
func (s *Interface) AppendFailure(app AppendFunc, t int64, phase, reason string, v float64) error {
	key := phase + "\x00" + reason
	ls, ok := s.failures[key]
	if !ok {
		ls = s.labels(c.MetricFailures, phase, c.LabelReason, reason)
		s.failures[key] = ls
	}
	return app(ls, t, v)
}
