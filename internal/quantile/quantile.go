package quantile

import (
	"math"
	"slices"
)

// Bucket is one cumulative bucket: Count observations were at most
// UpperBound.
type Bucket struct {
	UpperBound float64
	Count      float64
}

// relTolerance is the relative difference between neighbouring cumulative
// counts that is taken for floating-point noise and ignored, as PromQL
// does, so sums of many bucket series give the same answer here and there.
const relTolerance = 1e-12

// Of returns the q-quantile of the cumulative buckets with linear
// interpolation inside the bucket that holds the rank, the lower bound of
// the first bucket being 0 (when its upper bound is positive). It follows
// histogram_quantile's edge cases: NaN for a NaN q, no +Inf bucket, fewer
// than two buckets or no observation; -Inf for q < 0 and +Inf for q > 1;
// the highest finite bound when the rank falls into the +Inf bucket.
// Counts that decrease are raised to the previous count. buckets is left
// as it was.
func Of(q float64, buckets []Bucket) float64 {
	switch {
	case math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	case len(buckets) == 0:
		return math.NaN()
	}
	bs := slices.Clone(buckets)
	slices.SortStableFunc(bs, func(a, b Bucket) int {
		switch {
		case a.UpperBound < b.UpperBound:
			return -1
		case a.UpperBound > b.UpperBound:
			return 1
		}
		return 0
	})
	if !math.IsInf(bs[len(bs)-1].UpperBound, 1) {
		return math.NaN()
	}
	bs = merge(bs)
	monotone(bs)
	if len(bs) < 2 {
		return math.NaN()
	}
	total := bs[len(bs)-1].Count
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	// The first bucket, excluding +Inf, whose count reaches the rank.
	i, _ := slices.BinarySearchFunc(bs[:len(bs)-1], rank, func(b Bucket, r float64) int {
		if b.Count >= r {
			return 1
		}
		return -1
	})
	if i == len(bs)-1 {
		return bs[len(bs)-2].UpperBound
	}
	if i == 0 && bs[0].UpperBound <= 0 {
		return bs[0].UpperBound
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = bs[i-1].UpperBound, bs[i-1].Count
	}
	upper := bs[i].UpperBound
	return lower + (upper-lower)*((rank-below)/(bs[i].Count-below))
}

// merge adds up buckets of equal bound (sorted input), in place.
func merge(bs []Bucket) []Bucket {
	out := bs[:1]
	for _, b := range bs[1:] {
		if last := &out[len(out)-1]; last.UpperBound == b.UpperBound {
			last.Count += b.Count
			continue
		}
		out = append(out, b)
	}
	return out
}

// monotone ignores tiny relative differences between neighbouring counts
// and raises any count below the last kept one to it.
func monotone(bs []Bucket) {
	prev := bs[0].Count
	for i := 1; i < len(bs); i++ {
		cur := bs[i].Count
		switch {
		case cur == prev:
		case nearlyEqual(prev, cur) || cur < prev:
			bs[i].Count = prev
		default:
			prev = cur
		}
	}
}

// minNormal is the smallest normal float64.
var minNormal = math.Float64frombits(0x0010000000000000)

// nearlyEqual reports whether a and b differ by less than relTolerance
// relative to their size (absolutely, near zero).
func nearlyEqual(a, b float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsNaN(a) || math.IsNaN(b) {
		return false
	}
	sum, d := math.Abs(a)+math.Abs(b), math.Abs(a-b)
	if a == 0 || b == 0 || sum < minNormal {
		return d < relTolerance*minNormal
	}
	return d/math.Min(sum, math.MaxFloat64) < relTolerance
}
