package analyzer

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// estimateNoise is the noise model segmentWithNoise settles on.
func estimateNoise(x []float64, minSeg int, quantum float64) noiseModel {
	g, _ := segmentWithNoise(x, minSeg, quantum)
	return noiseModel{phi: g.phi, sigma: g.sigma}
}

// lrv is the long-run standard deviation of the noise model.
func lrv(nm noiseModel) float64 { return nm.sigma / (1 - nm.phi) }

// arNoise is n days of AR(1) noise with coefficient phi and standard
// deviation sd.
func arNoise(rng *rand.Rand, n int, phi, sd float64) []float64 {
	x := make([]float64, n)
	e := rng.NormFloat64() * sd
	for i := range x {
		x[i] = e
		e = phi*e + sd*math.Sqrt(1-phi*phi)*rng.NormFloat64()
	}
	return x
}

// daysOf turns values into days of metric from 2025-01-01, other metrics NaN.
func daysOf(metric int, vs []float64) []Day {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Day, len(vs))
	for i, v := range vs {
		out[i].Date = start.AddDate(0, 0, i)
		for j := range out[i].Values {
			out[i].Values[j] = math.NaN()
		}
		out[i].Values[metric] = v
	}
	return out
}

func TestSelectKth(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	for range 2000 {
		n := 1 + rng.IntN(40)
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(rng.IntN(5)) // many ties
		}
		k := rng.IntN(n)
		sorted := slices.Sorted(slices.Values(v))
		w := slices.Clone(v)
		if got := selectKth(w, k); got != sorted[k] {
			t.Fatalf("selectKth(%v, %d) = %v, want %v", v, k, got, sorted[k])
		}
		for i := range w {
			if i < k && w[i] > sorted[k] || i > k && w[i] < sorted[k] {
				t.Fatalf("selectKth(%v, %d) left %v unpartitioned", v, k, w)
			}
		}
		if got := selectMedian(slices.Clone(v)); got != median(v) {
			t.Fatalf("selectMedian(%v) = %v, want %v", v, got, median(v))
		}
	}
}

// TestNoiseEstimateSurvivesTies: rounding a series to a grid 1.5 to 3
// times its noise (two days in three then equal the day before) leaves
// the estimated long-run noise within a factor of 2 of that of the
// unrounded series, where the MAD of differences used before collapses
// to nothing.
func TestNoiseEstimateSurvivesTies(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 4))
	var ratios, legacy []float64
	var tied, pairs int
	for range 200 {
		phi := rng.Float64() * 0.9
		x := arNoise(rng, 180, phi, 0.05)
		step := (1.5 + rng.Float64()*1.5) * 0.05
		q := make([]float64, len(x))
		for i, v := range x {
			q[i] = math.Round(v/step) * step
			if i > 0 {
				pairs++
				if q[i] == q[i-1] {
					tied++
				}
			}
		}
		exact := estimateNoise(x, 7, quantum(x))
		rounded := estimateNoise(q, 7, quantum(q))
		ratios = append(ratios, lrv(rounded)/lrv(exact))
		legacy = append(legacy, legacyRobustSigma(q)/legacyRobustSigma(x))
	}
	slices.Sort(ratios)
	slices.Sort(legacy)
	t.Logf("%.0f%% of consecutive days tied; long-run noise rounded/exact: 5%% %.2f, median %.2f, 95%% %.2f (legacy estimate: median %.2f)",
		100*float64(tied)/float64(pairs), ratios[10], ratios[100], ratios[190], legacy[100])
	if ratios[10] < 0.5 || ratios[190] > 2 {
		t.Errorf("rounded/exact long-run noise between %.2f and %.2f in 90%% of series, want within a factor 2", ratios[10], ratios[190])
	}
}

func TestQuantum(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	x := arNoise(rng, 180, 0.5, 0.05)
	if q := quantum(x); q != 0 {
		t.Errorf("quantum of a continuous series = %v, want 0", q)
	}
	for i := range x {
		x[i] = math.Round(x[i]/0.1) * 0.1
	}
	if q := quantum(x); math.Abs(q-0.1) > 1e-9 {
		t.Errorf("quantum of a series rounded to 0.1 = %v", q)
	}
}

// TestNoiseEstimateRecoversAR: the AR coefficient and long-run noise of
// AR(1) series of six months, in the median over many series.
func TestNoiseEstimateRecoversAR(t *testing.T) {
	t.Parallel()
	for _, phi := range []float64{0, 0.5, 0.8} {
		rng := rand.New(rand.NewPCG(6, uint64(phi*10)))
		var phis, lrvs []float64
		for range 200 {
			x := arNoise(rng, 180, phi, 0.05)
			nm := estimateNoise(x, 7, 0)
			phis = append(phis, nm.phi)
			want := 0.05 * math.Sqrt((1+phi)/(1-phi))
			if phi < minPhi {
				// on purpose: phi is raised to minPhi, keeping the
				// day-to-day variance
				want = 0.05 * (1 + minPhi) / (1 - minPhi)
			}
			lrvs = append(lrvs, lrv(nm)/want)
		}
		p, l := median(phis), median(lrvs)
		t.Logf("phi %.1f: estimated %.2f, long-run noise / expected %.2f", phi, p, l)
		if math.Abs(p-math.Max(phi, minPhi)) > 0.1 || l < 0.85 || l > 1.3 {
			t.Errorf("phi %.1f: median estimate %.2f, long-run noise ratio %.2f", phi, p, l)
		}
	}
}

// TestCreepIsATrend: latency rising 40% over 90 days from day 40 of 180
// is one trend with that slope, not change points; a creep still under
// way at the end is ongoing.
func TestCreepIsATrend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		from    int
		days    int
		ongoing bool
	}{{"finished", 40, 90, false}, {"ongoing", 100, 200, true}} {
		rng := rand.New(rand.NewPCG(7, uint64(tc.from)))
		x := arNoise(rng, 180, 0.3, 0.04)
		for i := range x {
			level := math.Min(1, math.Max(0, float64(i-tc.from)/float64(tc.days)))
			x[i] = 0.1 * math.Exp(x[i]) * (1 + 0.4*level)
		}
		cps, trends := findChanges(daysOf(mP99, x), mP99, 7, 0.1)
		if len(cps) != 0 || len(trends) != 1 {
			t.Fatalf("%s: change points %+v, trends %+v; want one trend", tc.name, cps, trends)
		}
		tr := trends[0]
		want := math.Pow(1.4, 30/float64(tc.days)) - 1
		start, _ := time.Parse(time.DateOnly, tr.Start)
		from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, tc.from)
		t.Logf("%s: %+v (slope %.3f per 30 days, true %.3f)", tc.name, tr, tr.SlopePer30d, want)
		if tr.Metric != c.BaselineLatencyP99 || tr.Ongoing != tc.ongoing || math.Abs(tr.SlopePer30d/want-1) > 0.25 ||
			math.Abs(start.Sub(from).Hours()) > 14*24 {
			t.Errorf("%s: trend %+v, want from about %s at %.3f per 30 days, ongoing %v", tc.name, tr, from.Format(time.DateOnly), want, tc.ongoing)
		}
	}
}

// TestStepNearTheEnd: a step with fewer than MinSegment days after it is
// not reported at a wrong date; with enough days it is, at its date.
func TestStepNearTheEnd(t *testing.T) {
	t.Parallel()
	for _, after := range []int{3, 5, 7, 10, 20} {
		rng := rand.New(rand.NewPCG(8, uint64(after)))
		n := 120
		x := arNoise(rng, n, 0, 0.03)
		for i := range x {
			x[i] = 0.05 * math.Exp(x[i])
			if i >= n-after {
				x[i] *= 1.4
			}
		}
		cps, _ := findChanges(daysOf(mP50, x), mP50, 7, 0.1)
		want := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n-after).Format(time.DateOnly)
		switch {
		case after < 7 && len(cps) > 0:
			t.Errorf("%d days after the step: reported %+v, want nothing yet", after, cps)
		case after >= 7 && (len(cps) != 1 || cps[0].Date != want):
			t.Errorf("%d days after the step: %+v, want one on %s", after, cps, want)
		}
	}
}
