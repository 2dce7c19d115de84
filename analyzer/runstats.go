package analyzer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/perfbase/perfbase/internal/quantile"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Runs as the unit of comparison.
//
// A pressure test is run before a launch or once a month: a few minutes of
// steady load per run, a handful of runs a month. Days are the wrong unit
// for it (one day with data per month), so these statistics compare runs.
// The model, per interface and metric, on a log scale for latency and
// throughput and on the ratio scale for success ratios:
//
//	level of window w of run r = interface level + run effect a_r + window noise e_rw
//
// a_r is what makes two runs of an unchanged system differ (the environment
// that day, caches, data), with between-run standard deviation tau; e_rw is
// the wander inside a run, autocorrelated from one window to the next, plus
// the sampling noise of the window's requests. A run's level is its
// quantile (or ratio) over the whole run, from its merged buckets (counts);
// its within-run variance u_r comes from its windows, divided by their
// effective number (fewer than the windows when they are autocorrelated).
//
// The test depends on what the runs can tell:
//
//   - one baseline run and one current run: nothing is known about tau, so
//     the windows are the samples (Welch t on the window levels, effective
//     sample size for the autocorrelation; for success ratios a
//     two-proportion z-test on the counts, widened by the windows'
//     over-dispersion). "Significant" then means "beyond the noise inside
//     the runs"; only the practical tolerance stands between ordinary
//     run-to-run wobble and a regression.
//   - several runs on either side: the spread of the run levels around
//     their side's mean estimates tau^2 + u (pooled over both sides), so
//     the current runs are tested against what runs of an unchanged system
//     do (prediction-interval logic: t = difference / sqrt(tau^2 (1/k +
//     1/m) + u_b/k + u_c/m)). tau^2 is never negative, so the within-run
//     term is a floor: two baseline runs that agree by chance do not make
//     the test absurdly narrow. The degrees of freedom are those of tau^2
//     (runs - sides, plus the prior's), never the windows' many.
//   - over a report, the between-run spread of the other interfaces is a
//     prior for each one's (moderated variance: worth at most
//     runPriorDF runs), because three baseline runs alone leave tau^2
//     with two degrees of freedom and no power after the
//     Benjamini-Hochberg step across the report.
//
// As for days, a verdict needs both the adjusted p-value under the FDR and
// a change beyond the tolerance.

// Tests named in MetricResult.Test for comparisons of runs.
const (
	// StatWindowWelch is Welch's t-test on the window levels of one
	// baseline and one current run.
	StatWindowWelch = "window_welch_t"
	// StatRunLevelT is the t-test of the current runs' mean level against
	// the baseline runs', with the between-run variance.
	StatRunLevelT = "run_level_t"
)

// UnitRuns is RunEvidence.Unit: each run is one observation.
const UnitRuns = "runs"

// runPriorDF bounds how many runs' worth of between-run spread an
// interface borrows from the others of its report.
const runPriorDF = 4

// RunEvidence is how a verdict over runs was reached.
type RunEvidence struct {
	// Unit is "runs".
	Unit string `json:"unit"`
	// Method says which test and why, in words.
	Method          string `json:"method"`
	BaselineRuns    int    `json:"baseline_runs"`
	CurrentRuns     int    `json:"current_runs"`
	BaselineWindows int    `json:"baseline_windows"`
	CurrentWindows  int    `json:"current_windows"`
	// BetweenRunSD is the estimated standard deviation of a run's level
	// beyond its within-run noise (tau), null with one run each side.
	// WithinRunSD is the standard error of one run's level from its
	// windows. Both are in log units for latency and throughput (0.05 is
	// about 5%) and in ratio units for success ratios (0.001 = 0.1 point).
	BetweenRunSD Num `json:"between_run_sd"`
	WithinRunSD  Num `json:"within_run_sd"`
	// Autocorrelation is the lag-one autocorrelation of the windows used
	// for their effective number.
	Autocorrelation Num `json:"window_autocorrelation"`
	// Statistic is the t or z value, DF its degrees of freedom (null: z).
	Statistic Num `json:"statistic"`
	DF        Num `json:"df"`
	// PriorRuns is how many runs' worth of between-run spread came from
	// the report's other interfaces.
	PriorRuns float64 `json:"prior_runs,omitempty"`
}

// runSample is one interface in one run: what a run record holds, with the
// shards of a run merged (mergeRunShards).
type runSample struct {
	RunID, Scenario string
	Start, End      time.Time
	// Active is the seconds the interface had load in steady stages.
	Active float64
	Counts Counts
	// Bounds are the finite bucket upper bounds (nil: the conventions
	// layout); Buckets the cumulative counts per bound, then +Inf, of all
	// outcomes.
	Bounds  []float64
	Buckets []float64
	Windows []runWindow
}

// runWindow is one within-run window.
type runWindow struct {
	Start, End time.Time
	// Counts holds the outcome counts (Scheduled and Dropped unused).
	Counts Counts
	// P50, P90 and P99 are the window's latency quantiles in seconds; NaN
	// when the window completed no request.
	P50, P90, P99 float64
}

// durationBounds is the conventions bucket layout.
var durationBounds = c.DurationBuckets()

func (s *runSample) bounds() []float64 {
	if s.Bounds == nil {
		return durationBounds
	}
	return s.Bounds
}

// Errors of mergeRunShards.
var (
	// errNoShards is returned for an empty merge.
	errNoShards = errors.New("no shards to merge")
	// errShardMismatch is returned when shards disagree on run or layout.
	errShardMismatch = errors.New("shards do not belong together")
)

// mergeRunShards merges the samples of one run's shards: counts and
// buckets are summed, active time is the longest (shards load in
// parallel), and windows that cover the same time are merged into one,
// since shards hit the same target at the same moment and their
// simultaneous windows are not independent samples of the run.
func mergeRunShards(shards []runSample) (runSample, error) {
	if len(shards) == 0 {
		return runSample{}, errNoShards
	}
	if len(shards) == 1 {
		return shards[0], nil // nothing to merge: no copy (a year of runs is a lot of buckets)
	}
	out := shards[0]
	out.Buckets = slices.Clone(out.Buckets)
	out.Windows = nil
	bounds := out.bounds()
	if len(out.Buckets) != len(bounds)+1 {
		return runSample{}, fmt.Errorf("%w: run %q: %d bucket counts for %d bounds", errShardMismatch, out.RunID, len(out.Buckets), len(bounds))
	}
	var windows []runWindow
	for i, s := range shards {
		windows = append(windows, s.Windows...)
		if i == 0 {
			continue
		}
		if s.RunID != out.RunID {
			return runSample{}, fmt.Errorf("%w: runs %q and %q", errShardMismatch, out.RunID, s.RunID)
		}
		if !slices.Equal(s.bounds(), bounds) || len(s.Buckets) != len(out.Buckets) {
			return runSample{}, fmt.Errorf("%w: run %q: bucket layouts differ", errShardMismatch, out.RunID)
		}
		for j, v := range s.Buckets {
			out.Buckets[j] += v
		}
		out.Counts.Success += s.Counts.Success
		out.Counts.BusinessFailure += s.Counts.BusinessFailure
		out.Counts.SystemFailure += s.Counts.SystemFailure
		out.Counts.Scheduled += s.Counts.Scheduled
		out.Counts.Dropped += s.Counts.Dropped
		out.Active = math.Max(out.Active, s.Active)
		if s.Start.Before(out.Start) {
			out.Start = s.Start
		}
		if s.End.After(out.End) {
			out.End = s.End
		}
	}
	out.Windows = mergeWindows(windows)
	return out, nil
}

// mergeWindows merges windows whose ends lie within half a window of each
// other: counts are summed, quantiles averaged on a log scale weighted by
// completed requests (the windows' exact quantile would need their
// buckets; it only serves within-run variability).
func mergeWindows(ws []runWindow) []runWindow {
	ws = slices.Clone(ws)
	slices.SortStableFunc(ws, func(a, b runWindow) int { return a.End.Compare(b.End) })
	var out []runWindow
	for i := 0; i < len(ws); {
		half := ws[i].End.Sub(ws[i].Start) / 2
		j := i + 1
		for j < len(ws) && ws[j].End.Sub(ws[i].End) < max(half, ws[j].End.Sub(ws[j].Start)/2) {
			j++
		}
		if j == i+1 {
			out = append(out, ws[i])
			i = j
			continue
		}
		m := runWindow{Start: ws[i].Start, End: ws[i].End}
		var lq [3]float64
		var wq [3]float64
		for _, w := range ws[i:j] {
			if w.Start.Before(m.Start) {
				m.Start = w.Start
			}
			if w.End.After(m.End) {
				m.End = w.End
			}
			m.Counts.Success += w.Counts.Success
			m.Counts.BusinessFailure += w.Counts.BusinessFailure
			m.Counts.SystemFailure += w.Counts.SystemFailure
			n := w.Counts.Completed()
			for k, q := range [3]float64{w.P50, w.P90, w.P99} {
				if q > 0 && !math.IsInf(q, 0) && n > 0 {
					lq[k] += n * math.Log(q)
					wq[k] += n
				}
			}
		}
		qs := [3]*float64{&m.P50, &m.P90, &m.P99}
		for k := range qs {
			*qs[k] = math.NaN()
			if wq[k] > 0 {
				*qs[k] = math.Exp(lq[k] / wq[k])
			}
		}
		out = append(out, m)
		i = j
	}
	return out
}

// quantile is the run's latency quantile q from its buckets, with the
// interpolation of histogram_quantile (as bucketSet.quantiles); NaN when
// not computable.
func (s *runSample) quantile(q float64) float64 {
	b := s.bounds()
	if len(s.Buckets) != len(b)+1 {
		return math.NaN()
	}
	bs := make([]quantile.Bucket, len(s.Buckets))
	for i, n := range s.Buckets {
		ub := math.Inf(1)
		if i < len(b) {
			ub = b[i]
		}
		bs[i] = quantile.Bucket{UpperBound: ub, Count: n}
	}
	v := quantile.Of(q, bs)
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// zP95 places p95 between p90 and p99 on the normal quantile scale: a
// window's log p95 is interpolated from its log p90 and log p99 (exact for
// a lognormal), since records keep no window p95.
var zP95 = (math.Sqrt2*math.Erfinv(0.9) - math.Sqrt2*math.Erfinv(0.8)) / (math.Sqrt2*math.Erfinv(0.98) - math.Sqrt2*math.Erfinv(0.8))

// runObs is one run's observation of one metric: its level and the window
// levels in time order (counts for ratios).
type runObs struct {
	level float64
	// n is the requests behind a ratio (its denominator).
	n       float64
	windows []float64
	// wn are the windows' denominators (ratios only).
	wn []float64
}

// observe extracts metric m of one run; ok is false when the run has no
// value for it.
func observe(s *runSample, m int) (runObs, bool) {
	var o runObs
	switch m {
	case mP50, mP90, mP95, mP99:
		v := s.quantile(quantiles[m].q)
		if !(v > 0) {
			return o, false
		}
		o.level = math.Log(v)
		for _, w := range s.Windows {
			var v float64
			switch m {
			case mP50:
				v = math.Log(w.P50)
			case mP90:
				v = math.Log(w.P90)
			case mP99:
				v = math.Log(w.P99)
			case mP95:
				l90, l99 := math.Log(w.P90), math.Log(w.P99)
				v = l90 + zP95*(l99-l90)
			}
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				o.windows = append(o.windows, v)
			}
		}
	case mThroughput:
		n := s.Counts.Completed()
		if !(n > 0 && s.Active > 0) {
			return o, false
		}
		o.level = math.Log(n / s.Active)
		for _, w := range s.Windows {
			if secs := w.End.Sub(w.Start).Seconds(); secs > 0 && w.Counts.Completed() > 0 {
				o.windows = append(o.windows, math.Log(w.Counts.Completed()/secs))
			}
		}
	case mBusiness, mSystem:
		num, den := ratioParts(s.Counts, m)
		if !(den > 0) {
			return o, false
		}
		o.level, o.n = num/den, den
		for _, w := range s.Windows {
			if wn, wd := ratioParts(w.Counts, m); wd > 0 {
				o.windows = append(o.windows, wn/wd)
				o.wn = append(o.wn, wd)
			}
		}
	default:
		return o, false
	}
	return o, true
}

// ratioParts returns the numerator and denominator of a success ratio.
func ratioParts(cs Counts, m int) (float64, float64) {
	if m == mSystem {
		return cs.SystemOK(), cs.Completed()
	}
	return cs.Success, cs.SystemOK()
}

// runPrior is what the other interfaces of a report say about one
// interface's metric: a between-run variance worth df runs (on the
// interface's own scale) and the windows' lag-one autocorrelation (NaN:
// estimate from the interface's own windows).
type runPrior struct {
	tau2, df, rho float64
}

func noPrior() runPrior { return runPrior{rho: math.NaN()} }

// withinStats is one side's within-run noise of one metric.
type withinStats struct {
	// u are the variances of each run's level from its windows.
	u []float64
	// df are the degrees of freedom of the within-run variance (+Inf when
	// it is known: binomial).
	df      float64
	windows int
	// phi is the windows' over-dispersion (ratios only).
	phi float64
}

// latencyWithin estimates each run's level variance from its windows:
// the window variance, pooled over the side's runs, divided by the run's
// effective number of windows for lag-one autocorrelation rho.
func latencyWithin(side []runObs, rho float64) withinStats {
	var ss, df float64
	ws := withinStats{}
	for _, o := range side {
		ws.windows += len(o.windows)
		if len(o.windows) < 2 {
			continue
		}
		mu := mean(o.windows)
		for _, v := range o.windows {
			ss += (v - mu) * (v - mu)
		}
		df += float64(len(o.windows) - 1)
	}
	if df == 0 {
		ws.u = make([]float64, len(side))
		for i := range ws.u {
			ws.u[i] = math.NaN()
		}
		return ws
	}
	s2 := ss / df
	shrink := (1 - rho) / (1 + rho)
	for _, o := range side {
		neff := math.Max(1, float64(len(o.windows))*shrink)
		ws.u = append(ws.u, s2/neff)
	}
	ws.df = math.Max(1, df*shrink)
	return ws
}

// ratioWithin is the binomial variance of each run's ratio widened by the
// over-dispersion of its windows (at least 1), with the side's pooled
// ratio so a run without failures still has a variance.
func ratioWithin(side []runObs) withinStats {
	var num, den, phiSum, phiW float64
	ws := withinStats{df: math.Inf(1)}
	for _, o := range side {
		num += o.level * o.n
		den += o.n
		ws.windows += len(o.windows)
		if len(o.windows) >= 3 {
			w := float64(len(o.windows) - 1)
			phiSum += w * dispersion(o.windows, o.n)
			phiW += w
		}
	}
	phi := 1.0
	if phiW > 0 {
		phi = phiSum / phiW
	}
	if phi > 1 {
		ws.df = phiW
	}
	ws.phi = phi
	p := num / den
	for _, o := range side {
		ws.u = append(ws.u, phi*p*(1-p)/o.n)
	}
	return ws
}

// rhoPrior and rhoPriorSD describe what is assumed of the windows' lag-one
// autocorrelation before they are seen: minute windows of a steady load
// are mildly autocorrelated.
const rhoPrior, rhoPriorSD = 0.2, 0.2

// lagOne estimates the lag-one autocorrelation of window series, each
// centred on its own mean, pooled. Centring biases a short series'
// estimate down by about (1+3 rho)/W, which is corrected; the estimate is
// then shrunk toward rhoPrior by its standard error (a few runs of a few
// windows cannot show a strong autocorrelation, and a spurious one would
// throw their evidence away) and kept in [0, 0.9].
func lagOne(series [][]float64) float64 {
	var num, den, pairs, n, runs float64
	for _, s := range series {
		if len(s) < 3 {
			continue
		}
		mu := mean(s)
		for i, v := range s {
			d := v - mu
			den += d * d
			if i > 0 {
				num += d * (s[i-1] - mu)
				pairs++
			}
		}
		n += float64(len(s))
		runs++
	}
	if pairs == 0 || den == 0 {
		return rhoPrior
	}
	r, w, gain := num/den, n/runs, 1.0
	if w > 4 {
		gain = 1 / (1 - 3/w)
		r = (r + 1/w) * gain
	} else {
		r += 1 / w
	}
	se2, v0 := gain*gain/pairs, rhoPriorSD*rhoPriorSD
	r = rhoPrior + (r-rhoPrior)*v0/(v0+se2)
	return math.Max(0, math.Min(0.9, r))
}

// levelTest is the outcome of one run comparison test.
type levelTest struct {
	diff, stat, df, p float64
	between, within   float64
	method            string
	priorDF           float64
}

// testLevels compares the current runs' mean level with the baseline
// runs': between-run variance from the spread of the runs around their
// side's mean (moderated by the prior) with the runs' degrees of freedom,
// within-run variance as a floor. With one run each side and no prior it
// is Welch's test on the windows (Welch-Satterthwaite degrees of freedom).
func testLevels(base, cur []float64, wb, wc withinStats, pr runPrior) levelTest {
	k, m := float64(len(base)), float64(len(cur))
	mb, mc := mean(base), mean(cur)
	lt := levelTest{diff: mc - mb, between: math.NaN(), method: StatWindowWelch}
	ub, uc := meanFinite(wb.u), meanFinite(wc.u)
	var ss, dfb, uSum float64
	for _, side := range []struct {
		v  []float64
		mu float64
		u  float64
	}{{base, mb, ub}, {cur, mc, uc}} {
		if len(side.v) < 2 {
			continue
		}
		for _, x := range side.v {
			ss += (x - side.mu) * (x - side.mu)
		}
		d := float64(len(side.v) - 1)
		dfb += d
		uSum += d * side.u
	}
	var tau2, dfT float64
	if dfb+pr.df > 0 {
		lt.method = StatRunLevelT
		var excess float64
		if dfb > 0 {
			excess = ss/dfb - uSum/dfb
		}
		dfT = dfb + pr.df
		tau2 = math.Max(0, (pr.df*pr.tau2+dfb*excess)/dfT)
		lt.between = math.Sqrt(tau2)
		lt.priorDF = pr.df
	}
	cb := tau2 * (1/k + 1/m)
	within := ub/k + uc/m
	v := cb + within
	lt.within = math.Sqrt((ub*k + uc*m) / (k + m))
	// Degrees of freedom: with between-run information, those of the
	// runs' spread (and the prior), even where the within-run floor holds:
	// two runs that agree by chance say little about tau, and the windows'
	// many degrees of freedom would make the test too narrow. Without it,
	// Welch-Satterthwaite over the windows of both sides.
	var dfDen float64
	if dfT == 0 {
		if x := ub / k; x > 0 {
			dfDen += x * x / wb.df
		}
		if x := uc / m; x > 0 {
			dfDen += x * x / wc.df
		}
	}
	switch {
	case math.IsNaN(v) || math.IsNaN(lt.diff):
		lt.p, lt.stat, lt.df = math.NaN(), math.NaN(), math.NaN()
	case v <= 0: // identical runs without any noise
		lt.stat, lt.df, lt.p = 0, math.Inf(1), 1
		if lt.diff != 0 {
			lt.stat, lt.p = math.Copysign(math.Inf(1), lt.diff), 0
		}
	default:
		lt.df = math.Inf(1)
		switch {
		case dfT > 0:
			lt.df = dfT
		case dfDen > 0:
			lt.df = math.Max(1, v*v/dfDen)
		}
		lt.stat = lt.diff / math.Sqrt(v)
		lt.p = studentTwoSided(lt.stat, lt.df)
	}
	return lt
}

// meanFinite is the mean of the non-NaN values; NaN when there is none.
func meanFinite(v []float64) float64 {
	var s, n float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / n
}

// runSide is one side's runs merged for the reported figures.
type runSide struct {
	counts  Counts
	active  float64
	buckets bucketSet
	bounds  []float64
	layouts bool // false when the side's runs differ in bucket layout
	windows int
	vals    [numMetrics]float64
}

func mergeSide(runs []runSample) runSide {
	sd := runSide{buckets: bucketSet{}, layouts: true}
	for i := range runs {
		r := &runs[i]
		b := r.bounds()
		if sd.bounds == nil {
			sd.bounds = b
		} else if !slices.Equal(sd.bounds, b) {
			sd.layouts = false
		}
		if len(r.Buckets) == len(b)+1 {
			for j, ub := range b {
				sd.buckets[ub] += r.Buckets[j]
			}
			sd.buckets[math.Inf(1)] += r.Buckets[len(b)]
		} else {
			sd.layouts = false
		}
		sd.counts.Success += r.Counts.Success
		sd.counts.BusinessFailure += r.Counts.BusinessFailure
		sd.counts.SystemFailure += r.Counts.SystemFailure
		sd.counts.Scheduled += r.Counts.Scheduled
		sd.counts.Dropped += r.Counts.Dropped
		sd.active += r.Active
		sd.windows += len(r.Windows)
	}
	for i := range sd.vals {
		sd.vals[i] = math.NaN()
	}
	if sd.layouts {
		sd.buckets.quantiles(&sd.vals)
	}
	ratios(&sd.vals, sd.counts)
	if sd.active > 0 && sd.counts.Completed() > 0 {
		sd.vals[mThroughput] = sd.counts.Completed() / sd.active
	}
	return sd
}

// compareRuns computes one interface's metric results from its baseline
// and current runs, before the FDR step (runVerdicts applies it).
func compareRuns(base, cur []runSample, o Options) []*MetricResult {
	var priors [numMetrics]runPrior
	for i := range priors {
		priors[i] = noPrior()
	}
	return compareRunsWith(base, cur, o, &priors)
}

func compareRunsWith(base, cur []runSample, o Options, priors *[numMetrics]runPrior) []*MetricResult {
	out := make([]*MetricResult, 0, len(verdictMetrics))
	bs, cs := mergeSide(base), mergeSide(cur)
	loadOK, loadReason := true, ""
	if bt, ct := bs.vals[mThroughput], cs.vals[mThroughput]; bt > 0 && ct > 0 {
		if r := ct / bt; r > o.LoadRatio || r < 1/o.LoadRatio {
			loadOK = false
			loadReason = fmt.Sprintf("load level differs: throughput %.2fx the baseline runs'", r)
		}
	}
	for _, m := range verdictMetrics {
		r := &MetricResult{metric: m, Baseline: Num(bs.vals[m]), Current: Num(cs.vals[m]), Change: nan(),
			PValue: nan(), QValue: nan(), NBaseline: float64(len(base)), NCurrent: float64(len(cur))}
		out = append(out, r)
		ev := &RunEvidence{Unit: UnitRuns, BaselineRuns: len(base), CurrentRuns: len(cur),
			BaselineWindows: bs.windows, CurrentWindows: cs.windows,
			BetweenRunSD: nan(), WithinRunSD: nan(), Autocorrelation: nan(), Statistic: nan(), DF: nan()}
		r.Evidence = ev
		bv, cv := bs.vals[m], cs.vals[m]
		isRatio := m == mBusiness || m == mSystem
		if !math.IsNaN(bv) && !math.IsNaN(cv) {
			if isRatio {
				r.Change = Num(cv - bv)
			} else if bv > 0 {
				r.Change = Num(cv/bv - 1)
			}
		}
		isLatency := m <= mP99
		switch {
		case len(base) == 0:
			r.Verdict, r.Reason = VerdictInsufficient, "no baseline runs"
			continue
		case len(cur) == 0:
			r.Verdict, r.Reason = VerdictInsufficient, "no current runs"
			continue
		case m != mThroughput && !loadOK:
			r.Verdict, r.Reason = VerdictNotComparable, loadReason
			continue
		case isLatency && (!bs.layouts || !cs.layouts || !sameBuckets(bs.bounds, cs.bounds)):
			r.Verdict, r.Reason = VerdictNotComparable, "latency bucket layouts differ"
			continue
		case math.IsNaN(bv) || math.IsNaN(cv):
			r.Verdict, r.Reason = VerdictInsufficient, "metric absent in the baseline or current runs"
			continue
		}
		if isRatio {
			_, n1 := ratioParts(bs.counts, m)
			_, n2 := ratioParts(cs.counts, m)
			if n1 < o.MinRequests || n2 < o.MinRequests {
				r.Verdict, r.Reason = VerdictInsufficient, "too few requests"
				continue
			}
		}
		var bo, co []runObs
		for i := range base {
			if x, ok := observe(&base[i], m); ok {
				bo = append(bo, x)
			}
		}
		for i := range cur {
			if x, ok := observe(&cur[i], m); ok {
				co = append(co, x)
			}
		}
		if len(bo) == 0 || len(co) == 0 {
			r.Verdict, r.Reason = VerdictInsufficient, "metric absent in the baseline or current runs"
			continue
		}
		pr := priors[m]
		if isRatio && len(bo) == 1 && len(co) == 1 && pr.df == 0 {
			// One run each side: the counts themselves, as for days, with
			// the windows' over-dispersion as the dispersion.
			wb, wc := ratioWithin(bo), ratioWithin(co)
			phi := math.Max(wb.phi, wc.phi)
			k1, n1 := ratioParts(base[0].Counts, m)
			k2, n2 := ratioParts(cur[0].Counts, m)
			r.Test = StatTwoProportion
			r.PValue = Num(twoProportion(k1, n1, k2, n2, phi))
			ev.Method = "one run each side: two-proportion z-test on the run counts, variance widened by the windows' over-dispersion; the run-to-run spread is unknown"
			ev.WithinRunSD = Num(math.Sqrt(meanFinite(append(slices.Clone(wb.u), wc.u...))))
			if z := normalQuantileUpper(float64(r.PValue) / 2); !math.IsNaN(z) {
				ev.Statistic = Num(math.Copysign(z, float64(r.Change)))
			}
			continue
		}
		lt, rho, ok := testObs(bo, co, isRatio, pr)
		if !ok {
			r.Verdict, r.Reason = VerdictInsufficient, "one run each side and too few windows to measure the noise within them"
			continue
		}
		ev.Autocorrelation = Num(rho)
		r.Test = lt.method
		r.PValue = Num(lt.p)
		ev.BetweenRunSD, ev.WithinRunSD = Num(lt.between), Num(lt.within)
		ev.Statistic, ev.DF, ev.PriorRuns = Num(lt.stat), Num(lt.df), lt.priorDF
		if lt.method == StatWindowWelch {
			ev.Method = "one run each side: Welch t-test on the window levels, effective window count for autocorrelation; the run-to-run spread is unknown, only the tolerance guards against it"
		} else {
			ev.Method = "t-test of the current runs' level against the baseline runs' spread (between-run variance, within-run variance as a floor)"
			if lt.priorDF > 0 {
				ev.Method += fmt.Sprintf(", spread moderated by the report's other interfaces (worth %.0f runs)", lt.priorDF)
			}
		}
	}
	return out
}

// testObs compares the observations of one metric by their levels (every
// path but the two-proportion test of one run each side); rho is the
// windows' autocorrelation used (NaN for ratios); ok is false when one run
// each side has too few windows to measure the noise within them.
func testObs(bo, co []runObs, isRatio bool, pr runPrior) (lt levelTest, rho float64, ok bool) {
	rho = math.NaN()
	var wb, wc withinStats
	if isRatio {
		wb, wc = ratioWithin(bo), ratioWithin(co)
	} else {
		rho = pr.rho
		if math.IsNaN(rho) {
			series := make([][]float64, 0, len(bo)+len(co))
			for _, o := range bo {
				series = append(series, o.windows)
			}
			for _, o := range co {
				series = append(series, o.windows)
			}
			rho = lagOne(series)
		}
		if math.IsNaN(rho) {
			rho = 0
		}
		wb, wc = latencyWithin(bo, rho), latencyWithin(co, rho)
	}
	noWindows := math.IsNaN(meanFinite(wb.u)) || math.IsNaN(meanFinite(wc.u))
	if len(bo) < 2 && len(co) < 2 && pr.df == 0 && noWindows {
		return lt, rho, false
	}
	if noWindows { // several runs but no windows: the runs' spread alone
		wb, wc = zeroWithin(len(bo)), zeroWithin(len(co))
	}
	return testLevels(levels(bo), levels(co), wb, wc, pr), rho, true
}

func levels(obs []runObs) []float64 {
	out := make([]float64, len(obs))
	for i, o := range obs {
		out[i] = o.level
	}
	return out
}

func zeroWithin(n int) withinStats {
	return withinStats{u: make([]float64, n), df: math.Inf(1)}
}

// runVerdicts compares every named interface's runs, with each interface's
// between-run spread moderated by the others', then applies one
// Benjamini-Hochberg step across all interfaces and metrics and decides.
func runVerdicts(base, cur map[string][]runSample, names []string, o Options) [][]*MetricResult {
	priors := runPriors(base, cur, names)
	var all []*MetricResult
	results := make([][]*MetricResult, len(names))
	for i, n := range names {
		results[i] = compareRunsWith(base[n], cur[n], o, &priors[i])
		all = append(all, results[i]...)
	}
	ps := make([]float64, len(all))
	for i, r := range all {
		ps[i] = float64(r.PValue)
	}
	for i, q := range benjaminiHochberg(ps) {
		all[i].QValue = Num(q)
		decide(all[i], o)
	}
	return results
}

// runPriors computes, per interface and metric, what the other interfaces'
// runs say: the between-run variance in excess of within-run noise,
// relative (log metrics) or scaled by the failure ratio (success ratios,
// whose run-to-run wobble grows with the failures), and the windows'
// lag-one autocorrelation, pooled over all interfaces.
func runPriors(base, cur map[string][]runSample, names []string) [][numMetrics]runPrior {
	type part struct {
		rel, df, scale float64
	}
	out := make([][numMetrics]runPrior, len(names))
	for _, m := range verdictMetrics {
		isRatio := m == mBusiness || m == mSystem
		obs := make([][2][]runObs, len(names))
		var series [][]float64
		for i, n := range names {
			for side, runs := range [][]runSample{base[n], cur[n]} {
				for j := range runs {
					if x, ok := observe(&runs[j], m); ok {
						obs[i][side] = append(obs[i][side], x)
						series = append(series, x.windows)
					}
				}
			}
		}
		rho := math.NaN()
		if !isRatio {
			rho = lagOne(series)
		}
		within := rho // for the within-run terms of the excess below
		if math.IsNaN(within) {
			within = 0
		}
		parts := make([]part, len(names))
		for i := range names {
			p := part{scale: 1}
			var ss, dfb, uSum float64
			for _, side := range obs[i] {
				if len(side) < 2 {
					continue
				}
				var w withinStats
				if isRatio {
					w = ratioWithin(side)
				} else {
					w = latencyWithin(side, within)
				}
				lv := levels(side)
				mu := mean(lv)
				for _, x := range lv {
					ss += (x - mu) * (x - mu)
				}
				d := float64(len(side) - 1)
				dfb += d
				if u := meanFinite(w.u); !math.IsNaN(u) {
					uSum += d * u
				}
			}
			if isRatio {
				var num, den float64
				for _, x := range obs[i][0] {
					num += x.level * x.n
					den += x.n
				}
				if den > 0 {
					p.scale = math.Max(1e-4, 1-num/den)
				}
			}
			if dfb > 0 {
				p.rel = math.Max(0, ss/dfb-uSum/dfb) / (p.scale * p.scale)
				p.df = dfb
			}
			parts[i] = p
		}
		var relSum, dfSum float64
		for _, p := range parts {
			relSum += p.rel * p.df
			dfSum += p.df
		}
		for i, p := range parts {
			others := dfSum - p.df
			pr := runPrior{rho: rho}
			if others > 0 {
				pr.tau2 = (relSum - p.rel*p.df) / others * p.scale * p.scale
				pr.df = math.Min(runPriorDF, others)
			}
			out[i][m] = pr
		}
	}
	return out
}

// studentTwoSided is P(|T| >= |t|) for Student's t with df degrees of
// freedom (fractional allowed; +Inf is the normal distribution).
func studentTwoSided(t, df float64) float64 {
	switch {
	case math.IsNaN(t) || math.IsNaN(df) || df <= 0:
		return math.NaN()
	case math.IsInf(t, 0):
		return 0
	case math.IsInf(df, 1) || df > 1e7:
		return math.Min(1, 2*normalSF(math.Abs(t)))
	}
	return math.Min(1, regIncBeta(df/2, 0.5, df/(df+t*t)))
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by its
// continued fraction (modified Lentz), on the side where it converges fast.
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny, eps = 1e-300, 1e-15
	clamp := func(v float64) float64 {
		if math.Abs(v) < tiny {
			return tiny
		}
		return v
	}
	cc, d := 1.0, 1/clamp(1-(a+b)*x/(a+1))
	f := d
	for i := 1; i <= 300; i++ {
		m := float64(i)
		// even step
		num := m * (b - m) * x / ((a + 2*m - 1) * (a + 2*m))
		d = 1 / clamp(1+num*d)
		cc = clamp(1 + num/cc)
		f *= d * cc
		// odd step
		num = -(a + m) * (a + b + m) * x / ((a + 2*m) * (a + 2*m + 1))
		d = 1 / clamp(1+num*d)
		cc = clamp(1 + num/cc)
		delta := d * cc
		f *= delta
		if math.Abs(delta-1) < eps {
			break
		}
	}
	return f
}

// normalQuantileUpper is z with P(Z > z) = p.
func normalQuantileUpper(p float64) float64 {
	if !(p > 0 && p < 1) {
		return math.NaN()
	}
	return math.Sqrt2 * math.Erfinv(1-2*p)
}

// Selecting runs for a report.

// monthlyRuns splits one interface's runs for a report on month: the runs
// that started in month are the current ones, those that started in the
// o.BaselineMonths months before it the baseline, each in start order.
func monthlyRuns(runs []runSample, month Month, o Options) (base, cur []runSample) {
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	from, start, end := month.Add(-o.BaselineMonths).Start(loc), month.Start(loc), month.End(loc)
	for _, r := range sortedRuns(runs) {
		switch {
		case !r.Start.Before(start) && r.Start.Before(end):
			cur = append(cur, r)
		case !r.Start.Before(from) && r.Start.Before(start):
			base = append(base, r)
		}
	}
	return base, cur
}

// previousRuns is the baseline of the n runs before cur: runs of the same
// scenarios as cur that started before cur's first run, the latest n, in
// start order.
func previousRuns(runs, cur []runSample, n int) []runSample {
	if len(cur) == 0 || n <= 0 {
		return nil
	}
	first := cur[0].Start
	scenarios := map[string]bool{}
	for _, r := range cur {
		if r.Start.Before(first) {
			first = r.Start
		}
		scenarios[r.Scenario] = true
	}
	var out []runSample
	for _, r := range sortedRuns(runs) {
		if r.Start.Before(first) && scenarios[r.Scenario] {
			out = append(out, r)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

func sortedRuns(runs []runSample) []runSample {
	s := slices.Clone(runs)
	slices.SortStableFunc(s, func(a, b runSample) int { return a.Start.Compare(b.Start) })
	return s
}
