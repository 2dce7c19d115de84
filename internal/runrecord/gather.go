package runrecord

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// FromFamilies reads the cumulative steady-phase state of a live run at t
// from the families its registry gathers (prometheus.Gatherer.Gather):
// perfbase_requests_total, perfbase_requests_scheduled_total,
// perfbase_requests_dropped_total and the classic buckets of
// perfbase_request_duration_seconds, phase="steady" only, outcomes summed
// per bound. Other families and labels (run_id, shard) are ignored: the
// registry holds one run-shard.
func FromFamilies(t time.Time, mfs []*dto.MetricFamily) (Snapshot, error) {
	s := Snapshot{Time: t, Interfaces: map[string]InterfaceSnapshot{}}
	buckets := map[string]map[float64]float64{}
	for _, mf := range mfs {
		name := mf.GetName()
		switch name {
		case c.MetricRequestsTotal, c.MetricRequestsScheduled, c.MetricRequestsDropped, c.MetricRequestDuration:
		default:
			continue
		}
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, lp := range m.GetLabel() {
				ls[lp.GetName()] = lp.GetValue()
			}
			if ls[c.LabelPhase] != c.PhaseSteady {
				continue
			}
			iface := ls[c.LabelInterface]
			if iface == "" {
				return Snapshot{}, fmt.Errorf("runrecord: %s series without %s label", name, c.LabelInterface)
			}
			is := s.Interfaces[iface]
			switch name {
			case c.MetricRequestsTotal:
				p := is.Requests.ptr(ls[c.LabelOutcome])
				if p == nil {
					return Snapshot{}, fmt.Errorf("runrecord: %s{%s=%q} has unknown outcome %q", name, c.LabelInterface, iface, ls[c.LabelOutcome])
				}
				*p += value(m)
			case c.MetricRequestsScheduled:
				is.Scheduled += value(m)
			case c.MetricRequestsDropped:
				is.Dropped += value(m)
			case c.MetricRequestDuration:
				h := m.GetHistogram()
				if h == nil {
					return Snapshot{}, fmt.Errorf("runrecord: %s{%s=%q} is not a histogram", name, c.LabelInterface, iface)
				}
				if len(h.GetBucket()) == 0 && h.GetSampleCount() > 0 {
					return Snapshot{}, fmt.Errorf("runrecord: %s{%s=%q} has no classic buckets", name, c.LabelInterface, iface)
				}
				bs := buckets[iface]
				if bs == nil {
					bs = map[float64]float64{}
					buckets[iface] = bs
				}
				for _, b := range h.GetBucket() {
					bs[b.GetUpperBound()] += bucketCount(b)
				}
				// client_golang leaves +Inf out: it is the sample count.
				if n := len(h.GetBucket()); n == 0 || !math.IsInf(h.GetBucket()[n-1].GetUpperBound(), 1) {
					bs[math.Inf(1)] += sampleCount(h)
				}
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

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return 0
}

func bucketCount(b *dto.Bucket) float64 {
	if b.CumulativeCountFloat != nil {
		return b.GetCumulativeCountFloat()
	}
	return float64(b.GetCumulativeCount())
}

func sampleCount(h *dto.Histogram) float64 {
	if h.SampleCountFloat != nil {
		return h.GetSampleCountFloat()
	}
	return float64(h.GetSampleCount())
}

func sortedBuckets(bs map[float64]float64) []Bucket {
	out := make([]Bucket, 0, len(bs))
	for _, ub := range slices.Sorted(maps.Keys(bs)) {
		out = append(out, Bucket{UpperBound: ub, Count: bs[ub]})
	}
	return out
}
