package runrecord

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// SnapshotExprs are the instant queries that read the cumulative
// steady-phase state of one run-shard from its raw series, for runs
// stored before records existed. Evaluate each at a snapshot's time (the
// Builder's Next, then the run's end) and pass the results to FromPromQL.
//
// Each takes the latest raw sample within the lookback before the time,
// so a window ends where the last scrape before its boundary was taken.
// Steady-phase series are those not labelled warm-up, so runs imported
// without a phase label count too (as in the analyzer).
type SnapshotExprs struct {
	Requests, Scheduled, Dropped, Buckets string
}

// SnapshotQueries returns the queries for the run-shard the matchers
// select: the run's run_id, and its shard when it was split.
func SnapshotQueries(matchers ...*labels.Matcher) SnapshotExprs {
	ms := []string{c.SteadyMatcher}
	for _, m := range matchers {
		if m != nil {
			ms = append(ms, m.String())
		}
	}
	sel := "{" + strings.Join(ms, ",") + "}"
	return SnapshotExprs{
		Requests:  fmt.Sprintf("sum by (%s, %s) (%s%s)", c.LabelInterface, c.LabelOutcome, c.MetricRequestsTotal, sel),
		Scheduled: fmt.Sprintf("sum by (%s) (%s%s)", c.LabelInterface, c.MetricRequestsScheduled, sel),
		Dropped:   fmt.Sprintf("sum by (%s) (%s%s)", c.LabelInterface, c.MetricRequestsDropped, sel),
		Buckets:   fmt.Sprintf("sum by (%s, %s) (%s_bucket%s)", c.LabelInterface, c.LabelLe, c.MetricRequestDuration, sel),
	}
}

// SnapshotResults are the results of SnapshotExprs at one time.
type SnapshotResults struct {
	Requests, Scheduled, Dropped, Buckets model.Value
}

// FromPromQL turns the results of SnapshotExprs at t into a snapshot.
// Bounds written differently ("1" and "1.0") are one bucket.
func FromPromQL(t time.Time, r SnapshotResults) (Snapshot, error) {
	s := Snapshot{Time: t, Interfaces: map[string]InterfaceSnapshot{}}
	buckets := map[string]map[float64]float64{}
	for _, part := range []struct {
		name string
		v    model.Value
		add  func(is *InterfaceSnapshot, m model.Metric, v float64) error
	}{
		{"requests", r.Requests, func(is *InterfaceSnapshot, m model.Metric, v float64) error {
			p := is.Requests.ptr(string(m[c.LabelOutcome]))
			if p == nil {
				return fmt.Errorf("unknown outcome %q", m[c.LabelOutcome])
			}
			*p += v
			return nil
		}},
		{"scheduled", r.Scheduled, func(is *InterfaceSnapshot, _ model.Metric, v float64) error { is.Scheduled += v; return nil }},
		{"dropped", r.Dropped, func(is *InterfaceSnapshot, _ model.Metric, v float64) error { is.Dropped += v; return nil }},
		{"buckets", r.Buckets, func(_ *InterfaceSnapshot, m model.Metric, v float64) error {
			ub, err := strconv.ParseFloat(string(m[c.LabelLe]), 64)
			if err != nil || math.IsNaN(ub) {
				return fmt.Errorf("bucket bound %q is not a number", m[c.LabelLe])
			}
			iface := string(m[c.LabelInterface])
			if buckets[iface] == nil {
				buckets[iface] = map[float64]float64{}
			}
			buckets[iface][ub] += v
			return nil
		}},
	} {
		if part.v == nil {
			continue
		}
		vec, ok := part.v.(model.Vector)
		if !ok {
			return Snapshot{}, fmt.Errorf("runrecord: %s result is a %s, want a vector", part.name, part.v.Type())
		}
		for _, smp := range vec {
			iface := string(smp.Metric[c.LabelInterface])
			if iface == "" {
				return Snapshot{}, fmt.Errorf("runrecord: %s result %s has no %s label", part.name, smp.Metric, c.LabelInterface)
			}
			is := s.Interfaces[iface]
			if err := part.add(&is, smp.Metric, float64(smp.Value)); err != nil {
				return Snapshot{}, fmt.Errorf("runrecord: %s result for interface %q: %w", part.name, iface, err)
			}
			s.Interfaces[iface] = is
		}
	}
	for iface, bs := range buckets {
		is := s.Interfaces[iface]
		is.Buckets = sortedBuckets(bs)
		s.Interfaces[iface] = is
	}
	return s, nil
}
