package quantile

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/promql"
)

func TestOfEdgeCases(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	two := []Bucket{{0.1, 5}, {0.2, 10}, {inf, 10}}
	cases := []struct {
		name string
		q    float64
		bs   []Bucket
		want float64
	}{
		{"nan q", math.NaN(), two, math.NaN()},
		{"negative q", -0.1, two, math.Inf(-1)},
		{"q above 1", 1.1, two, inf},
		{"empty", 0.5, nil, math.NaN()},
		{"no +Inf", 0.5, []Bucket{{0.1, 1}, {0.2, 2}}, math.NaN()},
		{"only +Inf", 0.5, []Bucket{{inf, 3}}, math.NaN()},
		{"no observation", 0.5, []Bucket{{0.1, 0}, {inf, 0}}, math.NaN()},
		{"median in first bucket", 0.5, two, 0.1},
		{"interpolated", 0.75, two, 0.15},
		{"rank in +Inf bucket", 0.99, []Bucket{{0.1, 5}, {inf, 10}}, 0.1},
		{"non-positive first bound", 0.1, []Bucket{{-1, 5}, {1, 10}, {inf, 10}}, -1},
		{"unsorted and duplicated", 0.75, []Bucket{{inf, 10}, {0.2, 6}, {0.1, 5}, {0.2, 4}}, 0.15},
		{"decreasing count raised", 0.5, []Bucket{{0.1, 5}, {0.2, 4}, {0.4, 10}, {inf, 10}}, 0.1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Of(tc.q, tc.bs)
			if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want) || math.Abs(got-tc.want) < 1e-12) {
				t.Fatalf("Of(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestOfMatchesPromQL holds the package to its promise: the figure
// histogram_quantile gives for the same buckets, on random histograms
// including unsorted, duplicated and slightly non-monotonic ones.
func TestOfMatchesPromQL(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		n := 1 + r.IntN(12)
		bs := make([]Bucket, 0, n+1)
		cum, ub := 0.0, r.Float64()*0.01-0.002
		for range n {
			ub += r.Float64() * 0.3
			cum += math.Floor(r.Float64() * 50)
			c := cum
			switch r.IntN(10) {
			case 0:
				c -= r.Float64() * 20 // a decrease
			case 1:
				c *= 1 + 1e-14 // floating-point noise
			}
			bs = append(bs, Bucket{ub, c})
			if r.IntN(15) == 0 {
				bs = append(bs, Bucket{ub, r.Float64()})
			}
		}
		bs = append(bs, Bucket{math.Inf(1), cum + math.Floor(r.Float64()*5)})
		r.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
		for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.99, 1} {
			pb := make(promql.Buckets, len(bs))
			for k, b := range bs {
				pb[k] = promql.Bucket{UpperBound: b.UpperBound, Count: b.Count}
			}
			want, _, _, _, _, _ := promql.BucketQuantile(q, pb)
			got := Of(q, bs)
			if !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("case %d q=%v: Of = %v, histogram_quantile = %v for %v", i, q, got, want, bs)
			}
		}
	}
}
