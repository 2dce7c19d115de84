package analyzer

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
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

// findInterfaceChanges sets the change points and trends of every
// interface from its daily series, on every CPU: the search is
// independent per interface and CPU-bound.
func findInterfaceChanges(ins []InterfaceReport, o Options) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ins)) {
		wg.Go(func() {
			for i := range next {
				ins[i].searchChanges(o)
			}
		})
	}
	for i := range ins {
		next <- i
	}
	close(next)
	wg.Wait()
}

// searchChanges searches the interface's daily series, with the latency
// tolerance for latency and the success tolerance for ratios, and orders
// what it finds by date.
func (ir *InterfaceReport) searchChanges(o Options) {
	ir.ChangePoints, ir.Trends = []ChangePoint{}, []Trend{}
	for _, m := range changePointMetrics {
		tol := o.LatencyTolerance
		if m == mBusiness || m == mSystem {
			tol = o.SuccessTolerance
		}
		cps, trends := findChanges(ir.Daily, m, o.MinSegment, tol)
		ir.ChangePoints = append(ir.ChangePoints, cps...)
		ir.Trends = append(ir.Trends, trends...)
	}
	slices.SortStableFunc(ir.ChangePoints, func(a, b ChangePoint) int { return strings.Compare(a.Date, b.Date) })
	slices.SortStableFunc(ir.Trends, func(a, b Trend) int { return strings.Compare(a.Start, b.Start) })
}

// Thresholds of the segmentation, on the GLS statistic (chi-squared with
// one degree of freedom for a change fixed in advance). The search takes
// the largest of many such statistics, so the thresholds grow with the
// log of the segment length. They were calibrated by simulation on noise
// series (AR(1) with coefficients 0 to 0.9, alone or under independent
// noise) of 90 to 365 days with the noise estimated from each series, as
// in use, for at most 2% of series with a false change
// (TestChangePointThresholds).
const (
	stepThreshold0, stepThresholdLog = 8, 2
	rampThreshold0, rampThresholdLog = 5, 2
	// rampMargin: a ramp is preferred to a significant step only when it
	// explains clearly more, so that a sharp step stays a change point.
	rampMargin = 6
	// minRampDays is the shortest trend, in days with data; faster
	// transitions are steps.
	minRampDays = 28
	// clipSigmas bounds a day's deviation from its week's median, so one
	// awful day is not a change point.
	clipSigmas = 3
)

// phiThreshold raises the thresholds with the AR coefficient: the nearer
// it is to 1, the less a few months of data say about the long-run
// variance, and the more a statistic computed with it may be too large.
const phiThreshold = 0.25

func stepThreshold(n int, phi float64) float64 {
	return (stepThreshold0 + stepThresholdLog*math.Log(float64(n))) * (1 + phiThreshold*phi)
}

func rampThreshold(n int, phi float64) float64 {
	return (rampThreshold0 + rampThresholdLog*math.Log(float64(n))) * (1 + phiThreshold*phi)
}

// cpSeries is one metric's daily series prepared for the search.
type cpSeries struct {
	metric int
	// x is the searched series: log-scaled for latency, without the
	// weekday effect, clipped. orig holds the values as read.
	x, orig []float64
	dates   []time.Time
	// offset is the mean weekday effect, added back to fitted levels.
	offset float64
	// quantum is the rounding step of the values (0: not quantised).
	quantum  float64
	logScale bool
}

// prepare extracts metric from days (days without it are skipped, not
// filled), puts latency on a log scale (a 20% step is the same size at 5
// ms and 5 s), removes the weekday effect (the median deviation of each
// weekday from a 7-day rolling median) and clips deviations beyond
// clipSigmas robust standard deviations from that rolling median.
func prepare(days []Day, metric int) *cpSeries {
	cs := &cpSeries{metric: metric, logScale: metric <= mP99 || metric == mThroughput}
	for _, d := range days {
		v := d.Values[metric]
		if math.IsNaN(v) || math.IsInf(v, 0) || cs.logScale && v <= 0 {
			continue
		}
		cs.orig = append(cs.orig, v)
		cs.dates = append(cs.dates, d.Date)
		if cs.logScale {
			v = math.Log(v)
		}
		cs.x = append(cs.x, v)
	}
	x := cs.x
	cs.quantum = quantum(x)
	if len(x) >= 28 {
		rm := rollingMedian(x, 7)
		var byWD [7][]float64
		for i := range x {
			wd := cs.dates[i].Weekday()
			byWD[wd] = append(byWD[wd], x[i]-rm[i])
		}
		var effect [7]float64
		for wd := range byWD {
			if len(byWD[wd]) > 0 {
				effect[wd] = selectMedian(byWD[wd])
			}
			cs.offset += effect[wd] / 7
		}
		for i := range x {
			x[i] -= effect[cs.dates[i].Weekday()]
		}
	}
	if len(x) >= 3 {
		rm := rollingMedian(x, 7)
		r := make([]float64, len(x))
		for i := range x {
			r[i] = x[i] - rm[i]
		}
		// with the rounding error of quantised values, which the
		// trimmed spread misses when most days equal their week's median
		sr := trimmedScale(r)
		lim := clipSigmas * math.Sqrt(sr*sr+cs.quantum*cs.quantum/6)
		for i := range x {
			x[i] = rm[i] + math.Max(-lim, math.Min(lim, r[i]))
		}
	}
	return cs
}

// back turns a level of the searched series into the metric's unit.
func (cs *cpSeries) back(level float64) float64 {
	if cs.logScale {
		return math.Exp(level + cs.offset)
	}
	return level + cs.offset
}

// relChange is the change from before to after in the metric's terms:
// relative for latency and throughput, absolute for ratios.
func relChange(metric int, before, after float64) float64 {
	if metric == mBusiness || metric == mSystem || metric == mDropped {
		return after - before
	}
	return after/before - 1
}

// findChanges searches one daily series for level shifts (change points)
// and gradual trends (docs/analyzer.md has the whole method and its
// measured accuracy).
//
// The noise is AR(1) plus independent noise (a slow day tends to follow a
// slow day), fitted robustly on the variogram; ties (many days exactly
// equal) do not break the fit, which uses trimmed spreads and corrects
// for rounding. The segmentation is binary: in each segment the strongest
// step (at least minSeg days either side) and the strongest ramp (a
// linear move over four weeks or more, possibly still under way at the
// end) are tested with the GLS statistic under that noise against
// thresholds calibrated by simulation; the winner splits the segment and
// both sides are searched again. The statistics alone keep false changes
// rare; tol only hides changes too small to matter, except that a run of
// hidden steps in one direction is re-read as a trend.
//
// Step dates are refined on the 2*minSeg days either side, so a date
// depends only on the days around it and successive reports give the same
// date; a step held against either end of the series waits for the next
// report.
func findChanges(days []Day, metric int, minSeg int, tol float64) ([]ChangePoint, []Trend) {
	cs := prepare(days, metric)
	n := len(cs.x)
	if n < 2*minSeg {
		return nil, nil
	}
	g, chs := segmentWithNoise(cs.x, minSeg, cs.quantum)
	refineSteps(g, chs, minSeg)
	chs = cs.rereadHiddenSteps(g, chs, tol)
	return cs.report(g, chs, tol)
}

// sigmaFloor keeps the statistics finite on a series without any noise.
const sigmaFloor = 1e-9

// segmentWithNoise fits the noise model of x, rounded to quantum, and
// segments x under it. The noise is fitted from pairs of days not
// separated by an obvious jump; when the segmentation this allows finds
// changes, again from the residuals around them, within their pieces, and
// x is segmented again. The first model errs on the noisy side (a change
// it cannot see counts as noise), so it rarely finds a false change to
// clean the residuals of.
func segmentWithNoise(x []float64, minSeg int, quantum float64) (*glsSeries, []change) {
	nm := fitNoise(x, jumpPieces(x, minSeg), quantum)
	nm.sigma = math.Max(nm.sigma, sigmaFloor)
	g := newGLSSeries(x, nm.phi, nm.sigma)
	chs := segment(g, minSeg)
	if len(chs) == 0 {
		return g, chs
	}
	r, piece := residuals(x, chs)
	rn := fitNoise(r, piece, quantum)
	rn.sigma = math.Max(rn.sigma, sigmaFloor)
	g = newGLSSeries(x, rn.phi, rn.sigma)
	return g, segment(g, minSeg)
}

// segment runs the binary segmentation and returns the changes in order.
func segment(g *glsSeries, minSeg int) []change {
	var out []change
	var rec func(a, b int)
	rec = func(a, b int) {
		if b-a < 2*minSeg {
			return
		}
		st := g.bestStep(a, b, minSeg)
		rp := g.bestRamp(a, b, minRampDays)
		stepOK := st.stat > stepThreshold(b-a, g.phi)
		rampOK := rp.stat > rampThreshold(b-a, g.phi)
		switch {
		case rampOK && (!stepOK || rp.stat > st.stat+rampMargin):
			out = append(out, rp)
			rec(a, rp.s+1)
			rec(rp.e, b)
		case stepOK:
			out = append(out, st)
			rec(a, st.e)
			rec(st.e, b)
		}
	}
	rec(0, len(g.x))
	slices.SortFunc(out, func(p, q change) int { return p.s - q.s })
	return out
}

// isStep tells a step from a ramp.
func (ch change) isStep() bool { return ch.e == ch.s+1 }

// bounds returns, for change i, the first day after the previous change
// and the last day before the next one (exclusive): the stretch the
// change's levels are measured on.
func bounds(chs []change, i, n int) (lo, hi int) {
	lo, hi = 0, n
	if i > 0 {
		lo = chs[i-1].e
	}
	if i+1 < len(chs) {
		hi = chs[i+1].s + 1
	}
	return lo, hi
}

// residuals of x around the segmentation: the median of each flat piece,
// joined linearly across ramps. piece numbers the pieces (flat ones and
// ramps) each day belongs to.
func residuals(x []float64, chs []change) ([]float64, []int) {
	n := len(x)
	fit := make([]float64, n)
	piece := make([]int, n)
	lo, id := 0, 0
	var levels []float64
	for i := 0; i <= len(chs); i++ {
		hi := n
		if i < len(chs) {
			hi = chs[i].s + 1
		}
		lv := selectMedian(slices.Clone(x[lo:hi]))
		levels = append(levels, lv)
		for t := lo; t < hi; t++ {
			fit[t], piece[t] = lv, id
		}
		id++
		if i < len(chs) {
			for t := chs[i].s + 1; t < chs[i].e; t++ {
				piece[t] = id
			}
			id++
			lo = chs[i].e
		}
	}
	for i, ch := range chs {
		for t := ch.s + 1; t < ch.e; t++ {
			fit[t] = levels[i] + (levels[i+1]-levels[i])*float64(t-ch.s)/float64(ch.e-ch.s)
		}
	}
	r := make([]float64, n)
	for t := range x {
		r[t] = x[t] - fit[t]
	}
	return r, piece
}

// refineSteps moves each step to the strongest step within 2*minSeg days
// of where the segmentation put it, judged on a window of 2*minSeg days
// either side (bounded by the neighbouring changes). The date then
// depends only on those days, not on where the report's months begin or
// end, nor on the estimate it started from.
//
// A step near either end of the series (within 2*minSeg days) is marked
// pinned, and not reported, when a step between it and the end (with
// fewer than minSeg days on that side) would be stronger: the change is
// most likely there, too near the end to be dated yet, and the step was
// held off it by the minimum segment. The next report dates it.
func refineSteps(g *glsSeries, chs []change, minSeg int) {
	n := len(g.x)
	w := 2 * minSeg
	local := func(lo, hi, j int) float64 {
		return g.fit(g.seg(max(lo, j-w), min(hi, j+w)), j-1, j).stat
	}
	for i := range chs {
		if !chs[i].isStep() {
			continue
		}
		lo, hi := bounds(chs, i, n)
		k0, k := chs[i].e, chs[i].e
		bestStat := -1.0
		for j := max(lo+minSeg, k0-w); j <= min(hi-minSeg, k0+w); j++ {
			if st := local(lo, hi, j); st > bestStat {
				k, bestStat = j, st
			}
		}
		chs[i].s, chs[i].e = k-1, k
		st := local(lo, hi, k)
		if lo == 0 && k < w {
			for j := 1; j < k; j++ {
				chs[i].pinned = chs[i].pinned || local(lo, hi, j) > st
			}
		}
		if hi == n && k > n-w {
			for j := k + 1; j < n; j++ {
				chs[i].pinned = chs[i].pinned || local(lo, hi, j) > st
			}
		}
	}
}

// stepChange is the change of step i in the metric's terms, between the
// mean values of the stretches either side.
func (cs *cpSeries) stepChange(chs []change, i int) (before, after, change float64) {
	lo, hi := bounds(chs, i, len(cs.x))
	before, after = mean(cs.orig[lo:chs[i].e]), mean(cs.orig[chs[i].e:hi])
	return before, after, relChange(cs.metric, before, after)
}

// rampChange is the fitted change of ramp i in the metric's terms.
func (cs *cpSeries) rampChange(g *glsSeries, chs []change, i int) (before, after, change float64) {
	lo, hi := bounds(chs, i, len(cs.x))
	f := g.fit(g.seg(lo, hi), chs[i].s, chs[i].e)
	before, after = cs.back(f.level), cs.back(f.level+f.size)
	return before, after, relChange(cs.metric, before, after)
}

// rereadHiddenSteps replaces each run of consecutive steps in one
// direction that the tolerance would all hide by a ramp over their
// stretch, when that ramp is significant and its whole change is not
// too small to matter: a slow creep is otherwise cut into steps each
// under the tolerance, and nothing is reported.
func (cs *cpSeries) rereadHiddenSteps(g *glsSeries, chs []change, tol float64) []change {
	n := len(cs.x)
	hidden := func(i int) float64 { // the step's sign when hidden, else 0
		if !chs[i].isStep() || chs[i].pinned {
			return 0
		}
		if _, _, ch := cs.stepChange(chs, i); math.Abs(ch) < tol {
			return math.Copysign(1, ch)
		}
		return 0
	}
	var out []change
	for i := 0; i < len(chs); {
		sign := hidden(i)
		j := i + 1
		for sign != 0 && j < len(chs) && hidden(j) == sign {
			j++
		}
		if sign == 0 {
			out = append(out, chs[i])
			i = j
			continue
		}
		lo, _ := bounds(chs, i, n)
		_, hi := bounds(chs, j-1, n)
		rp := g.bestRamp(lo, hi, minRampDays)
		if rp.stat > rampThreshold(hi-lo, g.phi) && rp.size*sign > 0 {
			trial := append(append(slices.Clone(out), rp), chs[j:]...)
			if _, _, ch := cs.rampChange(g, trial, len(out)); math.Abs(ch) >= tol {
				out = append(out, rp)
				i = j
				continue
			}
		}
		out = append(out, chs[i:j]...)
		i = j
	}
	return out
}

// report turns the changes into change points and trends, dropping those
// smaller than tol.
func (cs *cpSeries) report(g *glsSeries, chs []change, tol float64) ([]ChangePoint, []Trend) {
	var cps []ChangePoint
	var trends []Trend
	n := len(cs.x)
	key := c.BaselineMetrics[cs.metric]
	for i, ch := range chs {
		if ch.isStep() {
			before, after, change := cs.stepChange(chs, i)
			if !ch.pinned && math.Abs(change) >= tol {
				cps = append(cps, ChangePoint{Metric: key, Date: cs.dates[ch.e].Format(time.DateOnly),
					Before: before, After: after, Change: change})
			}
			continue
		}
		before, after, change := cs.rampChange(g, chs, i)
		if math.Abs(change) < tol {
			continue
		}
		f := g.fit(g.seg(bounds(chs, i, n)), ch.s, ch.e)
		days := cs.dates[ch.e].Sub(cs.dates[ch.s]).Hours() / 24
		per30 := f.size * 30 / days
		if cs.logScale {
			per30 = math.Exp(per30) - 1
		}
		trends = append(trends, Trend{Metric: key, Start: cs.dates[ch.s].Format(time.DateOnly), End: cs.dates[ch.e].Format(time.DateOnly),
			Ongoing: ch.e == n-1, Before: before, After: after, Change: change, SlopePer30d: per30})
	}
	return cps, trends
}

// rollingMedian is the centered median over w values (shorter at the
// ends). The window is kept sorted as it slides: one removal and one
// insertion a day.
func rollingMedian(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	h := w / 2
	win := make([]float64, 0, w)
	insert := func(v float64) {
		i, _ := slices.BinarySearch(win, v)
		win = slices.Insert(win, i, v)
	}
	remove := func(v float64) {
		i, _ := slices.BinarySearch(win, v)
		win = slices.Delete(win, i, i+1)
	}
	for i := range min(h, len(x)) {
		insert(x[i])
	}
	for i := range x {
		if j := i + h; j < len(x) {
			insert(x[j])
		}
		if j := i - h - 1; j >= 0 {
			remove(x[j])
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
