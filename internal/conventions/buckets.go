package conventions

import "math"

// Bucket layout of MetricRequestDuration, in seconds. It is fixed: changing
// it makes months stored before and after the change incomparable, which the
// analyzer detects and reports as not_comparable.
//
//   - 1, 2, 3, 4 ms;
//   - 5 ms to 5 s with 20 buckets per decade (bounds 10^(k/20) ms rounded to
//     three significant digits, each 1.122x the previous), so a 10% shift of
//     any quantile in that range moves its interpolated value;
//   - 6, 7.5, 10, 15, 20, 30, 45 and 60 s for timeouts and stalls.
//
// That is 73 finite buckets; with +Inf, _sum and _count a histogram costs 76
// series per interface, phase and outcome that occurs.
const (
	bucketsPerDecade = 20
	fineFirstK       = 14 // 10^(14/20) ms = 5.01 ms
	fineLastK        = 74 // 10^(74/20) ms = 5.01 s
)

var (
	coarseLow  = []float64{0.001, 0.002, 0.003, 0.004}
	coarseHigh = []float64{6, 7.5, 10, 15, 20, 30, 45, 60}
)

// DurationBuckets returns a fresh copy of the latency bucket upper bounds in
// seconds, ascending.
func DurationBuckets() []float64 {
	b := make([]float64, 0, len(coarseLow)+fineLastK-fineFirstK+1+len(coarseHigh))
	b = append(b, coarseLow...)
	for k := fineFirstK; k <= fineLastK; k++ {
		ms := math.Pow(10, float64(k)/bucketsPerDecade)
		b = append(b, roundSig(ms, 3)/1000)
	}
	return append(b, coarseHigh...)
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 {
		return 0
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

// LagBuckets are the buckets of MetricGeneratorLag: from 100 µs, under
// which lag is timer noise, to 2.5 s, past which a request is long dropped.
func LagBuckets() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
}
