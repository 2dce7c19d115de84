package analyzer

import (
	"math"
	"slices"
)

// trimmedScale estimates the standard deviation of v about its median from
// the 90% of values closest to it, so that a few outliers or level shifts
// barely move it. Unlike the median absolute deviation it does not
// collapse when many values are exactly equal (quantised latencies, ratios
// of exactly 1 on days without failures): it only fails when more than 90%
// of them are, and then falls back on the mean absolute deviation.
func trimmedScale(v []float64) float64 {
	return trimmedScaleInPlace(slices.Clone(v))
}

// trimmedScaleInPlace is trimmedScale, reordering and overwriting v.
func trimmedScaleInPlace(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	med := selectMedian(v)
	for i, x := range v {
		v[i] = math.Abs(x - med)
	}
	keep := int(math.Ceil(0.9 * float64(len(v))))
	// the keep smallest deviations, in any order
	selectKth(v, keep-1)
	var ss float64
	for _, d := range v[:keep] {
		ss += d * d
	}
	// E[Z^2; |Z| < 1.645] / 0.9 for a standard normal Z
	const trimmedVar = 0.62298
	if s := math.Sqrt(ss / float64(keep) / trimmedVar); s > 0 {
		return s
	}
	return mean(v) * math.Sqrt(math.Pi/2)
}

// selectMedian returns the median of v, reordering v.
func selectMedian(v []float64) float64 {
	n := len(v)
	hi := selectKth(v, n/2)
	if n%2 == 1 {
		return hi
	}
	// the largest of the lower half
	lo := v[0]
	for _, x := range v[1 : n/2] {
		lo = math.Max(lo, x)
	}
	return (lo + hi) / 2
}

// selectKth reorders v so that v[k] holds the value it would have if v
// were sorted, smaller or equal values before it and larger or equal ones
// after (Hoare's quickselect, median-of-three pivots), and returns v[k].
func selectKth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		// median of three as pivot
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// noiseModel is AR(1) day-to-day noise: x_t = phi*x_{t-1} + e_t with
// innovations e of standard deviation sigma.
type noiseModel struct {
	phi, sigma float64
}

// maxPhi bounds the AR coefficient: nearer 1 a series is a random walk,
// whose level (and so a level shift) is not defined.
const maxPhi = 0.95

// variogramLags are the lags of the differences the noise is fitted on.
const variogramLags = 12

// variogram returns the variances of x_{t+k} - x_t for k = 1..12 (fewer
// on a short series), from pairs within one piece (piece[t] numbers the
// level x_t belongs to; nil: one piece), each a trimmed scale.
func variogram(x []float64, piece []int) []float64 {
	same := func(t, u int) bool { return piece == nil || piece[t] == piece[u] }
	var v []float64
	d := make([]float64, 0, len(x))
	for k := 1; k <= variogramLags; k++ {
		d = d[:0]
		for t := 0; t+k < len(x); t++ {
			if same(t, t+k) {
				d = append(d, x[t+k]-x[t])
			}
		}
		if len(d) < 10 {
			break
		}
		s := trimmedScaleInPlace(d)
		if s <= 0 {
			break
		}
		v = append(v, s*s)
	}
	return v
}

// jumpPieces cuts x where it obviously jumps, so that the noise is not
// estimated across a level shift (a step of size delta adds delta to k of
// the lag-k differences, which then read as slow noise). A jump is a local
// maximum of |median of the next m days - median of the previous m| beyond
// 3 robust spreads of that difference of medians.
func jumpPieces(x []float64, m int) []int {
	n := len(x)
	piece := make([]int, n)
	if n < 4*m {
		return piece
	}
	tm := trailingMedian(x, m) // tm[t]: median of x[t-m+1 .. t]
	dm := make([]float64, n)
	var all []float64
	for t := m; t+m <= n; t++ {
		dm[t] = tm[t+m-1] - tm[t-1]
		all = append(all, dm[t])
	}
	lim := 3 * trimmedScaleInPlace(all)
	id := 0
	for t := m; t+m <= n; t++ {
		a := math.Abs(dm[t])
		peak := a > lim
		for u := max(m, t-m); peak && u <= min(n-m, t+m); u++ {
			if b := math.Abs(dm[u]); b > a || b == a && u < t {
				peak = false
			}
		}
		if peak {
			id++
		}
		piece[t] = id
	}
	for t := n - m + 1; t < n; t++ {
		piece[t] = id
	}
	return piece
}

// trailingMedian is the median of the w values up to and including each
// (fewer at the start).
func trailingMedian(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	win := make([]float64, 0, w)
	for i, v := range x {
		at, _ := slices.BinarySearch(win, v)
		win = slices.Insert(win, at, v)
		if i >= w {
			old, _ := slices.BinarySearch(win, x[i-w])
			win = slices.Delete(win, old, old+1)
		}
		k := len(win)
		if k%2 == 1 {
			out[i] = win[k/2]
		} else {
			out[i] = (win[k/2-1] + win[k/2]) / 2
		}
	}
	return out
}

// fitNoise estimates the day-to-day noise of x, rounded to steps of q (0:
// not rounded), as AR(1) plus independent noise (the sampling noise of a
// day's quantile or ratio on top of a slow wander), from the spread of
// differences at lags 1..12 within pieces (piece[t] numbers the level x_t
// belongs to; nil: one piece). For that
// model var(x_{t+k} - x_t) = A + B (1 - phi^k): A twice the independent
// variance, B twice the AR variance. Each spread is a trimmed scale, so a
// few level shifts or outliers (which move only the differences that span
// them) hardly count.
//
// The GLS statistics use a plain AR(1); the one returned has the fitted noise's
// spectral density at both ends: at frequency zero (the long-run
// variance, which decides whether a slow move is noise) and at the
// highest frequency (the day-to-day jumps, which date a step). So a weak
// but slow component costs only as much power as it adds long-run
// variance, and independent noise keeps its full power.
func fitNoise(x []float64, piece []int, q float64) noiseModel {
	v := variogram(x, piece)
	if len(v) == 0 {
		return noiseModel{}
	}
	// rounding: each difference carries two rounding errors
	for k := range v {
		v[k] += q * q / 6
	}
	a, b, phi := selectVariogram(v)
	// spectral densities (times 2 pi) at frequency 0 and pi
	s0 := a/2 + b/2*(1+phi)/(1-phi)
	sPi := a/2 + b/2*(1-phi)/(1+phi)
	if sPi <= 0 {
		return noiseModel{}
	}
	r := math.Sqrt(s0 / sPi)
	m := math.Max(minPhi, (r-1)/(r+1))
	// the robust lag-1 autocorrelation is a floor: the variogram of
	// a short series may miss part of a slow component
	m = math.Min(maxPhi, math.Max(m, lag1(x, piece, q)))
	// keep the high-frequency density, which is well measured
	return noiseModel{phi: m, sigma: (1 + m) * math.Sqrt(sPi)}
}

// minPhi is the least AR coefficient assumed. A slow component with a
// small share of the variance is invisible in the variogram of a few
// months, yet can triple the long-run variance; assuming phi >= 0.25 (a
// long-run variance at least 2.8 times the day-to-day one) keeps such
// series from being split (TestChangePointThresholds), at little cost for
// real steps, whose statistics are far above the thresholds.
const minPhi = 0.25

// lag1 is the Gnanadesikan-Kettenring lag-1 autocorrelation of x around
// a robust line through each piece (so that a slow creep does not count
// as correlated noise), from pairs within a piece.
func lag1(x []float64, piece []int, quantum float64) float64 {
	c := make([]float64, len(x))
	for lo := 0; lo < len(x); {
		hi := lo + 1
		for hi < len(x) && (piece == nil || piece[hi] == piece[lo]) {
			hi++
		}
		slope, icept := medianLine(x[lo:hi])
		for t := lo; t < hi; t++ {
			c[t] = x[t] - icept - slope*float64(t-lo)
		}
		lo = hi
	}
	var sum, dif []float64
	for t := 1; t < len(x); t++ {
		if piece == nil || piece[t] == piece[t-1] {
			sum = append(sum, c[t]+c[t-1])
			dif = append(dif, c[t]-c[t-1])
		}
	}
	if len(sum) < 10 {
		return 0
	}
	sp, sm := trimmedScaleInPlace(sum), trimmedScaleInPlace(dif)
	r := quantum * quantum / 6
	if sp*sp+sm*sm+2*r == 0 {
		return 0
	}
	return (sp*sp - sm*sm) / (sp*sp + sm*sm + 2*r)
}

// phiPow[i][k] is (i/100)^(k+1), for the fits on a grid of phi.
var phiPow = func() [][variogramLags]float64 {
	var out [][variogramLags]float64
	for i := 0; float64(i) <= maxPhi*100+1e-9; i++ {
		var row [variogramLags]float64
		for k := range row {
			row[k] = math.Pow(float64(i)/100, float64(k+1))
		}
		out = append(out, row)
	}
	return out
}()

// variogramPenalty is the penalty per parameter when choosing between
// independent noise, AR(1) and AR(1) plus independent noise: the
// variogram of a short series wobbles by 10-15%, which the larger model
// would otherwise read as a slow component.
const variogramPenalty = 6.0

// selectVariogram fits v (the variances of lag-k differences, k = 1..) by
// independent noise (v_k = A), AR(1) (v_k = B(1-phi^k)) or both, and
// keeps the model with the smallest penalised misfit
// L log(SS/L) + penalty * parameters, SS the relative sum of squares over
// the L lags.
func selectVariogram(v []float64) (a, b, phi float64) {
	l := float64(len(v))
	crit := func(ss float64, k int) float64 {
		return l*math.Log(math.Max(ss, 1e-12)/l) + variogramPenalty*float64(k)
	}
	// independent noise alone: A is the weighted mean
	var sw, swx float64
	for _, x := range v {
		w := 1 / math.Max(x*x, 1e-300)
		sw += w
		swx += w * x
	}
	a = swx / sw
	best := crit(relSS(v, a, 0, 0), 1)
	if len(v) < 3 {
		return a, 0, 0
	}
	if _, ar, arPhi, ss := fitVariogram(v, false); crit(ss, 2) < best {
		a, b, phi, best = 0, ar, arPhi, crit(ss, 2)
	}
	if len(v) >= 4 {
		if ma, mb, mphi, ss := fitVariogram(v, true); crit(ss, 3) < best {
			a, b, phi = ma, mb, mphi
		}
	}
	return a, b, phi
}

// relSS is the relative misfit of A + B(1-phi^k) to v, phi = i/100.
func relSS(v []float64, a, b float64, i int) float64 {
	var ss float64
	for k, x := range v {
		r := (x - a - b*(1-phiPow[i][k])) / math.Max(x, 1e-300)
		ss += r * r
	}
	return ss
}

// fitVariogram fits B(1-phi^k) (mixed: A + B(1-phi^k), A >= 0) to v by
// relative least squares, phi on a grid of 0.01.
func fitVariogram(v []float64, mixed bool) (a, b, phi, bestSS float64) {
	bestSS = math.Inf(1)
	for i := 1; i < len(phiPow); i++ {
		var s00, s01, s11, r0, r1 float64
		for k, x := range v {
			w := 1 / math.Max(x*x, 1e-300)
			f := 1 - phiPow[i][k]
			s00 += w
			s01 += w * f
			s11 += w * f * f
			r0 += w * x
			r1 += w * f * x
		}
		ca, cb := 0.0, r1/s11 // AR alone
		if det := s00*s11 - s01*s01; mixed && det > 1e-12*s00*s11 {
			if a2, b2 := (r0*s11-r1*s01)/det, (r1*s00-r0*s01)/det; a2 >= 0 && b2 > 0 {
				ca, cb = a2, b2
			}
		}
		if cb <= 0 {
			continue
		}
		if ss := relSS(v, ca, cb, i); ss < bestSS {
			a, b, phi, bestSS = ca, cb, float64(i)/100, ss
		}
	}
	return a, b, phi, bestSS
}

// medianLine is a robust straight line through y_t (t = 0..): the slope
// joins the medians of the first and last thirds, the intercept is the
// median of what the slope leaves.
func medianLine(y []float64) (slope, icept float64) {
	n := len(y)
	if n >= 9 {
		k := n / 3
		slope = (selectMedian(slices.Clone(y[n-k:])) - selectMedian(slices.Clone(y[:k]))) / float64(n-k)
	}
	r := make([]float64, n)
	for t, v := range y {
		r[t] = v - slope*float64(t)
	}
	return slope, selectMedian(r)
}

// quantum estimates the rounding step of quantised values (latencies
// recorded in whole milliseconds or read from coarse buckets): when at
// least a fifth of consecutive days are exactly equal, the 10th
// percentile of the nonzero day-to-day differences; else 0. Trimmed
// spreads mostly see the equal days and miss the rounding error, up to
// half a step on each value, which Sheppard's correction (variance
// step^2/12 a value) adds back: without it a series that sits on one
// rounded value for weeks and then on the next looks like a series of
// steps.
func quantum(x []float64) float64 {
	var nz []float64
	zero := 0
	for t := 1; t < len(x); t++ {
		if d := math.Abs(x[t] - x[t-1]); d == 0 {
			zero++
		} else {
			nz = append(nz, d)
		}
	}
	if len(nz) == 0 || zero*5 < len(x)-1 {
		return 0
	}
	return selectKth(nz, len(nz)/10)
}
