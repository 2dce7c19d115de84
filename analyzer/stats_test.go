package analyzer

import (
	"math"
	"testing"
)

func TestMannWhitney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		x, y []float64
		want float64 // reference values worked out by hand
		tol  float64
	}{
		// exact: all x below all y, 3 vs 3: p = 2/20
		{"exact separated", []float64{1, 2, 3}, []float64{4, 5, 6}, 0.1, 1e-12},
		// exact, interleaved: U=3 of 9, P(|U-4.5| >= 1.5) = 14/20
		{"exact mixed", []float64{1, 3, 5}, []float64{2, 4, 6}, 0.7, 1e-12},
		// normal approximation with ties, continuity-corrected
		{"ties", []float64{1, 1, 2, 2, 3, 3, 4}, []float64{3, 4, 4, 5, 5, 6, 6}, 0.00654, 2e-5}, // U=3, sigma=7.722 by hand
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := mannWhitney(tc.x, tc.y); math.Abs(got-tc.want) > tc.tol {
				t.Fatalf("p = %.6f, want %.6f", got, tc.want)
			}
			if got := mannWhitney(tc.y, tc.x); math.Abs(got-tc.want) > tc.tol {
				t.Fatalf("swapped: p = %.6f, want %.6f", got, tc.want)
			}
		})
	}
	if !math.IsNaN(mannWhitney(nil, []float64{1})) {
		t.Fatal("empty sample gave a p-value")
	}
}

func TestTwoProportion(t *testing.T) {
	t.Parallel()
	// 990/1000 vs 970/1000: z = 3.19 -> p = 0.0014
	if p := twoProportion(990, 1000, 970, 1000, 1); math.Abs(p-0.0014) > 0.0001 {
		t.Fatalf("p = %g", p)
	}
	// over-dispersion of 16 divides z by 4: z = 0.80
	if p := twoProportion(990, 1000, 970, 1000, 16); math.Abs(p-0.424) > 0.002 {
		t.Fatalf("dispersed p = %g", p)
	}
}

func TestBenjaminiHochberg(t *testing.T) {
	t.Parallel()
	got := benjaminiHochberg([]float64{0.01, 0.04, math.NaN(), 0.03, 0.5})
	want := []float64{0.04, 0.04 * 4 / 3, math.NaN(), 0.04 * 4 / 3, 0.5}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("q = %v, want %v", got, want)
		}
	}
}
