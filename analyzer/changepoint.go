package analyzer

import (
	"math"
	"slices"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// ChangePoint is a date from which an interface's daily series holds a
// different level.
type ChangePoint struct {
	Metric string `json:"metric"`
	// Date is the first day at the new level, YYYY-MM-DD in the report's zone.
	Date string `json:"date"`
	// Before and After are the mean daily values of the segments either side.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Change is relative (after/before - 1) for latency and throughput,
	// absolute (after - before) for ratios.
	Change float64 `json:"change"`
}

// changePointMetrics are the daily series searched for change points.
var changePointMetrics = []int{mP50, mP99, mBusiness, mSystem}

// cpPenalty multiplies log(n) in the binary segmentation's stopping rule: a
// split must explain more than cpPenalty*log(n) noise variances. BIC uses 2;
// 3 allows for heavy-tailed days.
const cpPenalty = 3

// findChangePoints runs binary segmentation over one daily series.
//
// Days without data are skipped, not filled. Latency is searched on a log
// scale, so a 20% step is the same size at 5 ms and at 5 s. Before
// searching, a weekday effect (the median residual of each weekday from a
// 7-day rolling median) is removed, and residuals beyond 3 robust standard
// deviations are clipped, so that weekly seasonality and one bad day are
// not change points. Segments are at least minSeg days long, and a change
// smaller than the tolerance is not reported.
func findChangePoints(days []Day, metric int, minSeg int, tol float64) []ChangePoint {
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
	sigma := robustSigma(x)
	rm := rollingMedian(x, 7)
	for i := range x {
		r := x[i] - rm[i]
		x[i] = rm[i] + math.Max(-3*sigma, math.Min(3*sigma, r))
	}
	pen := cpPenalty * math.Log(float64(n)) * sigma * sigma

	// prefix sums make each segment's split search O(length).
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

// robustSigma estimates the noise standard deviation from first
// differences (which a level shift barely touches) by their MAD.
func robustSigma(x []float64) float64 {
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

// rollingMedian is the centered median over w values (shorter at the ends).
func rollingMedian(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	h := w / 2
	for i := range x {
		lo, hi := max(0, i-h), min(len(x), i+h+1)
		out[i] = median(x[lo:hi])
	}
	return out
}
