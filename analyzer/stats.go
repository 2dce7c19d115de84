package analyzer

import (
	"math"
	"slices"
	"sort"
)

// mannWhitney returns the two-sided p-value of the Mann-Whitney U test of
// x against y: are values of one sample systematically larger? It is exact
// for small samples without ties and uses the normal approximation with tie
// and continuity corrections otherwise. NaN when a sample is empty.
func mannWhitney(x, y []float64) float64 {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return math.NaN()
	}
	type obs struct {
		v float64
		g int
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, 0})
	}
	for _, v := range y {
		all = append(all, obs{v, 1})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	var r1, tieTerm float64
	ties := false
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1..j
		if t := float64(j - i); t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		for k := i; k < j; k++ {
			if all[k].g == 0 {
				r1 += rank
			}
		}
		i = j
	}
	u1 := r1 - float64(n1*(n1+1))/2
	fn1, fn2 := float64(n1), float64(n2)
	if !ties && n1 <= 20 && n2 <= 20 {
		return exactMWU(n1, n2, u1)
	}
	n := fn1 + fn2
	mu := fn1 * fn2 / 2
	sigma := math.Sqrt(fn1 * fn2 / 12 * ((n + 1) - tieTerm/(n*(n-1))))
	if sigma == 0 {
		return 1
	}
	z := (math.Abs(u1-mu) - 0.5) / sigma
	if z < 0 {
		z = 0
	}
	return math.Min(1, 2*normalSF(z))
}

// exactMWU is the exact two-sided p-value of U = u1 for samples of n1 and
// n2 without ties, from the count of arrangements with each U.
func exactMWU(n1, n2 int, u1 float64) float64 {
	// f[i][j][u]: arrangements of i x-values and j y-values with U = u;
	// one row at a time keeps it O(n1*n2*max U).
	maxU := n1 * n2
	prev := make([][]float64, n2+1)
	for j := range prev {
		prev[j] = make([]float64, maxU+1)
		prev[j][0] = 1 // zero x-values: U = 0
	}
	for i := 1; i <= n1; i++ {
		cur := make([][]float64, n2+1)
		for j := 0; j <= n2; j++ {
			cur[j] = make([]float64, maxU+1)
			for u := 0; u <= i*j; u++ {
				// the largest value is an x (it beats all j y-values) or a y.
				var v float64
				if u-j >= 0 {
					v += prev[j][u-j]
				}
				if j > 0 {
					v += cur[j-1][u]
				}
				cur[j][u] = v
			}
		}
		prev = cur
	}
	counts := prev[n2]
	var total float64
	for _, v := range counts {
		total += v
	}
	mu := float64(maxU) / 2
	d := math.Abs(u1 - mu)
	var tail float64
	for u, v := range counts {
		if math.Abs(float64(u)-mu) >= d-1e-9 {
			tail += v
		}
	}
	return math.Min(1, tail/total)
}

// twoProportion tests whether k1/n1 and k2/n2 differ (two-sided z-test on
// the pooled proportion). dispersion >= 1 widens the variance for
// over-dispersed data: day-to-day variation beyond the binomial.
func twoProportion(k1, n1, k2, n2, dispersion float64) float64 {
	if n1 <= 0 || n2 <= 0 {
		return math.NaN()
	}
	p := (k1 + k2) / (n1 + n2)
	se := math.Sqrt(math.Max(dispersion, 1) * p * (1 - p) * (1/n1 + 1/n2))
	if se == 0 {
		if k1/n1 == k2/n2 {
			return 1
		}
		return 0
	}
	z := math.Abs(k1/n1-k2/n2) / se
	return math.Min(1, 2*normalSF(z))
}

// dispersion estimates how much more daily success ratios vary than a
// binomial with the average daily count would: var(ratio) / (p(1-p)/n).
// Large counts make every real day-to-day wobble significant otherwise.
func dispersion(daily []float64, total float64) float64 {
	if len(daily) < 3 || total <= 0 {
		return 1
	}
	var mean float64
	for _, v := range daily {
		mean += v
	}
	mean /= float64(len(daily))
	var ss float64
	for _, v := range daily {
		ss += (v - mean) * (v - mean)
	}
	variance := ss / float64(len(daily)-1)
	nDay := total / float64(len(daily))
	binom := mean * (1 - mean) / nDay
	if binom <= 0 {
		return 1
	}
	return math.Max(1, variance/binom)
}

// benjaminiHochberg returns the adjusted p-values (q-values) of ps, NaN
// entries kept NaN and not counted as tests.
func benjaminiHochberg(ps []float64) []float64 {
	idx := make([]int, 0, len(ps))
	for i, p := range ps {
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	out := make([]float64, len(ps))
	for i := range out {
		out[i] = math.NaN()
	}
	m := float64(len(idx))
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return a - b
	})
	running := 1.0
	for r := len(idx) - 1; r >= 0; r-- {
		q := ps[idx[r]] * m / float64(r+1)
		running = math.Min(running, q)
		out[idx[r]] = running
	}
	return out
}

// normalSF is P(Z > z) for a standard normal Z.
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
