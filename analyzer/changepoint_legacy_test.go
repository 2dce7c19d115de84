package analyzer

import (
	"math"
	"slices"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// legacyChangePoints is the change-point method perfbase used before the
// AR(1) noise model: binary segmentation with the noise level from the
// MAD of first differences and a 3*ln(n) penalty. It is kept, in tests
// only, so that the accuracy suite measures both methods on the same
// generated histories (docs/analyzer.md shows both).
func legacyChangePoints(days []Day, metric int, minSeg int, tol float64) []ChangePoint {
	var x, orig []float64
	var dates []time.Time
	logScale := metric <= mP99 || metric == mThroughput
	for _, d := range days {
		v := d.Values[metric]
		if math.IsNaN(v) || logScale && v <= 0 {
			continue
		}
		orig = append(orig, v)
		dates = append(dates, d.Date)
		if logScale {
			v = math.Log(v)
		}
		x = append(x, v)
	}
	n := len(x)
	if n < 2*minSeg {
		return nil
	}
	if n >= 28 {
		rm := rollingMedian(x, 7)
		var byWD [7][]float64
		for i := range x {
			wd := dates[i].Weekday()
			byWD[wd] = append(byWD[wd], x[i]-rm[i])
		}
		var effect [7]float64
		for wd := range byWD {
			if len(byWD[wd]) > 0 {
				effect[wd] = median(byWD[wd])
			}
		}
		for i := range x {
			x[i] -= effect[dates[i].Weekday()]
		}
	}
	sigma := legacyRobustSigma(x)
	rm := rollingMedian(x, 7)
	for i := range x {
		r := x[i] - rm[i]
		x[i] = rm[i] + math.Max(-3*sigma, math.Min(3*sigma, r))
	}
	pen := 3 * math.Log(float64(n)) * sigma * sigma
	pre := make([]float64, n+1)
	for i, v := range x {
		pre[i+1] = pre[i] + v
	}
	var cps []int
	var split func(a, b int)
	split = func(a, b int) {
		if b-a < 2*minSeg {
			return
		}
		best, bestGain := -1, 0.0
		total := pre[b] - pre[a]
		for t := a + minSeg; t <= b-minSeg; t++ {
			nl, nr := float64(t-a), float64(b-t)
			ml := (pre[t] - pre[a]) / nl
			mr := (total - (pre[t] - pre[a])) / nr
			g := nl * nr / (nl + nr) * (ml - mr) * (ml - mr)
			if g > bestGain {
				best, bestGain = t, g
			}
		}
		if best < 0 || bestGain <= pen {
			return
		}
		cps = append(cps, best)
		split(a, best)
		split(best, b)
	}
	split(0, n)
	slices.Sort(cps)
	var out []ChangePoint
	bounds := append(append([]int{0}, cps...), n)
	for k, t := range cps {
		before, after := mean(orig[bounds[k]:t]), mean(orig[t:bounds[k+2]])
		var change float64
		if metric == mBusiness || metric == mSystem || metric == mDropped {
			change = after - before
		} else {
			change = after/before - 1
		}
		if math.Abs(change) < tol {
			continue
		}
		out = append(out, ChangePoint{
			Metric: c.BaselineMetrics[metric], Date: dates[t].Format(time.DateOnly),
			Before: before, After: after, Change: change,
		})
	}
	return out
}

// legacyRobustSigma is the noise level of the legacy method: the MAD of
// first differences, which assumes independent days and collapses when
// most consecutive days are equal.
func legacyRobustSigma(x []float64) float64 {
	if len(x) < 3 {
		return 1e-9
	}
	d := make([]float64, len(x)-1)
	for i := range d {
		d[i] = x[i+1] - x[i]
	}
	m := median(d)
	for i := range d {
		d[i] = math.Abs(d[i] - m)
	}
	s := median(d) / 0.6745 / math.Sqrt2
	return math.Max(s, 1e-9)
}
