package analyzer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteGLS computes the GLS statistic of regressor z against a constant
// with the explicit AR(1) precision matrix.
func bruteGLS(x, z []float64, phi, sigma float64) (stat, size float64) {
	n := len(x)
	q := func(i, j int) float64 {
		switch {
		case i == j && (i == 0 || i == n-1):
			return 1
		case i == j:
			return 1 + phi*phi
		case i-j == 1 || j-i == 1:
			return -phi
		}
		return 0
	}
	ip := func(u, v []float64) float64 {
		var s float64
		for i := range n {
			for j := max(0, i-1); j <= min(n-1, i+1); j++ {
				s += u[i] * q(i, j) * v[j]
			}
		}
		return s
	}
	one := make([]float64, n)
	for i := range one {
		one[i] = 1
	}
	num := ip(z, x) - ip(z, one)*ip(one, x)/ip(one, one)
	den := ip(z, z) - ip(z, one)*ip(z, one)/ip(one, one)
	return num * num / (den * sigma * sigma), num / den
}

func TestGLSFitMatchesMatrix(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 60)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for _, phi := range []float64{0, 0.5, 0.9} {
		g := newGLSSeries(x, phi, 0.7)
		for _, c := range [][4]int{{0, 60, 58, 59}, {0, 60, 0, 1}, {0, 60, 0, 59}, {0, 60, 29, 30}, {5, 40, 6, 7}, {5, 40, 37, 38}, {0, 60, 0, 28}, {0, 60, 10, 59}, {3, 50, 3, 49}, {10, 50, 20, 45}} {
			a, b, s, e := c[0], c[1], c[2], c[3]
			z := make([]float64, b-a)
			for t := a; t < b; t++ {
				switch {
				case t <= s:
				case t >= e:
					z[t-a] = 1
				default:
					z[t-a] = float64(t-s) / float64(e-s)
				}
			}
			wantStat, wantSize := bruteGLS(x[a:b], z, phi, 0.7)
			got := g.fit(g.seg(a, b), s, e)
			if math.Abs(got.stat-wantStat) > 1e-9*math.Max(1, wantStat) || math.Abs(got.size-wantSize) > 1e-9 {
				t.Errorf("phi %v ramp %v: stat %v size %v, want %v %v", phi, c, got.stat, got.size, wantStat, wantSize)
			}
		}
	}
}
