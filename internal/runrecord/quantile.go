package runrecord

import (
	"math"

	"github.com/perfbase/perfbase/internal/quantile"
)

// Quantile returns the q-quantile in seconds of a cumulative histogram
// with Prometheus' own histogram_quantile interpolation, so a window's
// figure is the one a server would compute from the same buckets. It is
// NaN when the histogram holds no request.
func Quantile(q float64, buckets []Bucket) float64 {
	if len(buckets) < 2 {
		return math.NaN()
	}
	bs := make([]quantile.Bucket, len(buckets))
	for i, b := range buckets {
		bs[i] = quantile.Bucket{UpperBound: b.UpperBound, Count: b.Count}
	}
	return quantile.Of(q, bs)
}

// windowLatency returns the window quantiles of a histogram, nil when any
// is not a finite figure (no request completed).
func windowLatency(buckets []Bucket) []float64 {
	out := make([]float64, len(WindowQuantiles))
	for i, q := range WindowQuantiles {
		v := Quantile(q, buckets)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil
		}
		out[i] = v
	}
	return out
}
