package store

import (
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
)

// toHistogram converts a native histogram result, as the HTTP API would
// render it. perfbase stores classic histograms, so this only serves
// expressions over native histograms written by other tools.
func toHistogram(h *histogram.FloatHistogram) *model.SampleHistogram {
	out := &model.SampleHistogram{
		Count: model.FloatString(h.Count),
		Sum:   model.FloatString(h.Sum),
	}
	it := h.AllBucketIterator()
	for it.Next() {
		b := it.At()
		if b.Count == 0 {
			continue
		}
		var boundaries int32
		// Prometheus' API encodes: 0 = (a,b], 1 = [a,b), 2 = (a,b), 3 = [a,b].
		switch {
		case b.LowerInclusive && b.UpperInclusive:
			boundaries = 3
		case !b.LowerInclusive && b.UpperInclusive:
			boundaries = 0
		case b.LowerInclusive && !b.UpperInclusive:
			boundaries = 1
		default:
			boundaries = 2
		}
		out.Buckets = append(out.Buckets, &model.HistogramBucket{
			Boundaries: boundaries,
			Lower:      model.FloatString(b.Lower),
			Upper:      model.FloatString(b.Upper),
			Count:      model.FloatString(b.Count),
		})
	}
	return out
}
