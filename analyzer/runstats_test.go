package analyzer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
	c "github.com/perfbase/perfbase/internal/conventions"
)

func TestStudentTwoSided(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t, df, want float64
	}{
		{12.706, 1, 0.05}, {4.303, 2, 0.05}, {3.182, 3, 0.05}, {2.228, 10, 0.05}, {2.086, 20, 0.05},
		{2.576, math.Inf(1), 0.01}, {1.96, math.Inf(1), 0.05}, {-2.228, 10, 0.05},
		{3.169, 10, 0.01}, {0, 5, 1}, {math.Inf(1), 3, 0},
	} {
		if got := studentTwoSided(tc.t, tc.df); math.Abs(got-tc.want) > 2e-4 {
			t.Errorf("studentTwoSided(%v, %v) = %v, want %v", tc.t, tc.df, got, tc.want)
		}
	}
	// fractional df lies between its neighbours
	p2, p25, p3 := studentTwoSided(3, 2), studentTwoSided(3, 2.5), studentTwoSided(3, 3)
	if !(p2 > p25 && p25 > p3) {
		t.Errorf("p(df=2, 2.5, 3) = %v, %v, %v: want decreasing", p2, p25, p3)
	}
	if !math.IsNaN(studentTwoSided(1, 0)) || !math.IsNaN(studentTwoSided(math.NaN(), 3)) {
		t.Error("want NaN for df 0 or t NaN")
	}
	if got := regIncBeta(2, 3, 0.5); math.Abs(got-11.0/16) > 1e-12 {
		t.Errorf("I_0.5(2,3) = %v, want 11/16", got)
	}
}

func TestLagOne(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 4))
	ar := func(rho float64, runs, w int) [][]float64 {
		out := make([][]float64, runs)
		for r := range out {
			x := rng.NormFloat64()
			for range w {
				out[r] = append(out[r], x)
				x = rho*x + math.Sqrt(1-rho*rho)*rng.NormFloat64()
			}
		}
		return out
	}
	for _, rho := range []float64{0, 0.3, 0.6} {
		// many short runs, as a report pools them: the centring bias is corrected
		if got := lagOne(ar(rho, 400, 8)); math.Abs(got-rho) > 0.08 {
			t.Errorf("rho %v: estimated %v from 400 runs of 8 windows", rho, got)
		}
	}
	// one run of 5 windows says little: the estimate stays near the prior
	for range 20 {
		if got := lagOne(ar(0.9, 1, 5)); math.Abs(got-rhoPrior) > 0.1 {
			t.Errorf("one run of 5 windows: %v, want about %v", got, rhoPrior)
		}
	}
	if got := lagOne(nil); got != rhoPrior {
		t.Errorf("no windows: %v, want %v", got, rhoPrior)
	}
}

// lognormalRun is a run whose buckets hold n requests of a lognormal
// latency (rounded counts), with windows of equal size whose quantiles
// wander by shifts (log units) around the run's.
func lognormalRun(id string, start time.Time, median, sigma, n float64, shifts []float64, bf, sf float64) runSample {
	lat := synth.RunTruth{Median: median, Sigma: sigma}
	s := runSample{RunID: id, Scenario: "pressure", Start: start, Active: 60 * float64(len(shifts))}
	s.End = start.Add(time.Duration(len(shifts)) * time.Minute)
	for _, b := range durationBounds {
		s.Buckets = append(s.Buckets, math.Round(n*0.5*math.Erfc(-math.Log(b/median)/(sigma*math.Sqrt2))))
	}
	s.Buckets = append(s.Buckets, n)
	sys := math.Round(n * sf)
	biz := math.Round((n - sys) * bf)
	s.Counts = Counts{Success: n - sys - biz, BusinessFailure: biz, SystemFailure: sys, Scheduled: n}
	for i, sh := range shifts {
		w := runWindow{Start: start.Add(time.Duration(i) * time.Minute), End: start.Add(time.Duration(i+1) * time.Minute)}
		f := 1 / float64(len(shifts))
		w.Counts = Counts{Success: s.Counts.Success * f, BusinessFailure: biz * f, SystemFailure: sys * f}
		e := math.Exp(sh)
		w.P50, w.P90, w.P99 = lat.Quantile(0.5)*e, lat.Quantile(0.9)*e, lat.Quantile(0.99)*e
		s.Windows = append(s.Windows, w)
	}
	return s
}

var day = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)

// wander is a within-run window wander of about 2% in log units.
var wander = []float64{0.01, -0.02, 0.03, 0, -0.01, 0.02, -0.03, 0.01}

func TestMergeRunShards(t *testing.T) {
	t.Parallel()
	a := lognormalRun("r1", day, 0.05, 0.5, 6000, wander[:3], 0.01, 0.001)
	b := lognormalRun("r1", day.Add(time.Second), 0.08, 0.5, 2000, wander[:3], 0.01, 0.001)
	b.Active = 170
	// a late window that has no partner in the other shard
	b.Windows = append(b.Windows, runWindow{Start: day.Add(3 * time.Minute), End: day.Add(4 * time.Minute), P50: 0.1, P90: 0.2, P99: 0.3,
		Counts: Counts{Success: 10}})
	m, err := mergeRunShards([]runSample{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts.Completed() != 8000 || m.Buckets[len(m.Buckets)-1] != 8000 || m.Active != 180 {
		t.Errorf("merged completed %v, +Inf %v, active %v; want 8000, 8000, 180 (the longest shard)", m.Counts.Completed(), m.Buckets[len(m.Buckets)-1], m.Active)
	}
	if len(m.Windows) != 4 {
		t.Fatalf("%d windows, want 3 merged pairs and the lone one", len(m.Windows))
	}
	w := m.Windows[0]
	// weighted geometric mean: 3/4 of the requests at 0.05*e^0.01, 1/4 at 0.08*e^0.01
	want := math.Exp(0.75*math.Log(0.05*math.Exp(0.01)) + 0.25*math.Log(0.08*math.Exp(0.01)))
	if math.Abs(w.P50/want-1) > 1e-9 || math.Abs(w.Counts.Completed()-8000.0/3) > 1e-9 {
		t.Errorf("first window p50 %v completed %v, want %v and 2666.7", w.P50, w.Counts.Completed(), want)
	}
	if m.Windows[3].P50 != 0.1 {
		t.Errorf("lone window changed: %+v", m.Windows[3])
	}
	if a.Counts.Completed() != 6000 {
		t.Error("merge changed its input")
	}

	c := b
	c.RunID = "r2"
	if _, err := mergeRunShards([]runSample{a, c}); !errors.Is(err, errShardMismatch) {
		t.Errorf("two runs: %v", err)
	}
	d := b
	d.Bounds = durationBounds[1:]
	d.Buckets = d.Buckets[1:]
	if _, err := mergeRunShards([]runSample{a, d}); !errors.Is(err, errShardMismatch) {
		t.Errorf("two layouts: %v", err)
	}
	if _, err := mergeRunShards(nil); !errors.Is(err, errNoShards) {
		t.Errorf("no shards: %v", err)
	}
}

func byMetric(rs []*MetricResult) map[string]*MetricResult {
	out := map[string]*MetricResult{}
	for _, r := range rs {
		out[c.BaselineMetrics[r.metric]] = r
	}
	return out
}

func TestCompareRunsCases(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	base := []runSample{lognormalRun("b1", day, 0.05, 0.5, 30000, wander, 0.01, 0.001)}
	cur := []runSample{lognormalRun("c1", day.AddDate(0, 1, 0), 0.065, 0.5, 30000, wander, 0.01, 0.001)}
	three := []runSample{
		base[0],
		lognormalRun("b2", day.AddDate(0, 0, 7), 0.051, 0.5, 30000, wander, 0.0102, 0.001),
		lognormalRun("b3", day.AddDate(0, 0, 14), 0.049, 0.5, 30000, wander, 0.0098, 0.001),
	}
	heavy := []runSample{lognormalRun("c1", day.AddDate(0, 1, 0), 0.05, 0.5, 100000, wander, 0.01, 0.001)}
	noWindows := []runSample{lognormalRun("c1", day.AddDate(0, 1, 0), 0.065, 0.5, 30000, nil, 0.01, 0.001)}
	noWindows[0].Active = 480
	otherLayout := []runSample{cur[0]}
	otherLayout[0].Bounds, otherLayout[0].Buckets = durationBounds[1:], cur[0].Buckets[1:]
	few := []runSample{lognormalRun("c1", day.AddDate(0, 1, 0), 0.065, 0.5, 50, wander, 0.01, 0.001)}
	few[0].Active = 480 * 50 / 30000.0

	for _, tc := range []struct {
		name      string
		base, cur []runSample
		// want maps metric keys to "verdict" (before the FDR step) or "test"
		want map[string]string
	}{
		{"no baseline", nil, cur, map[string]string{c.BaselineLatencyP50: VerdictInsufficient, c.BaselineSystemSuccess: VerdictInsufficient}},
		{"no current", base, nil, map[string]string{c.BaselineLatencyP99: VerdictInsufficient}},
		{"one vs one", base, cur, map[string]string{c.BaselineLatencyP50: StatWindowWelch, c.BaselineLatencyP95: StatWindowWelch,
			c.BaselineBusinessSuccess: StatTwoProportion, c.BaselineThroughput: StatWindowWelch}},
		{"three vs one", three, cur, map[string]string{c.BaselineLatencyP50: StatRunLevelT, c.BaselineSystemSuccess: StatRunLevelT}},
		{"load differs", base, heavy, map[string]string{c.BaselineLatencyP50: VerdictNotComparable, c.BaselineBusinessSuccess: VerdictNotComparable,
			c.BaselineThroughput: StatWindowWelch}},
		{"bucket layouts differ", base, otherLayout, map[string]string{c.BaselineLatencyP90: VerdictNotComparable, c.BaselineSystemSuccess: StatTwoProportion}},
		{"one vs one without windows", base, noWindows, map[string]string{c.BaselineLatencyP50: VerdictInsufficient, c.BaselineBusinessSuccess: StatTwoProportion}},
		{"three vs one without windows", three, noWindows, map[string]string{c.BaselineLatencyP50: StatRunLevelT}},
		{"too few requests", base, few, map[string]string{c.BaselineBusinessSuccess: VerdictInsufficient, c.BaselineLatencyP50: StatWindowWelch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := byMetric(compareRuns(tc.base, tc.cur, o))
			if len(rs) != len(verdictMetrics) {
				t.Fatalf("%d results", len(rs))
			}
			for key, want := range tc.want {
				r := rs[key]
				got := r.Verdict
				if r.Test != "" && r.Verdict == "" {
					got = r.Test
				}
				if got != want {
					t.Errorf("%s: %q (%s), want %q", key, got, r.Reason, want)
				}
				e := r.Evidence
				if e == nil || e.Unit != UnitRuns || e.BaselineRuns != len(tc.base) || e.CurrentRuns != len(tc.cur) || r.NBaseline != float64(len(tc.base)) {
					t.Errorf("%s: evidence %+v, n %v", key, e, r.NBaseline)
				}
				if r.Test != "" && (math.IsNaN(float64(r.PValue)) || e.Method == "" || math.IsNaN(float64(e.WithinRunSD))) {
					t.Errorf("%s: tested without p-value, method or within-run spread: %+v %+v", key, r, e)
				}
				if r.Test == StatRunLevelT && math.IsNaN(float64(e.BetweenRunSD)) {
					t.Errorf("%s: run-level test without between-run spread", key)
				}
				if r.Test == StatWindowWelch && (!math.IsNaN(float64(e.BetweenRunSD)) || e.BaselineWindows != len(wander)) {
					t.Errorf("%s: one vs one with between-run spread %v or %d windows", key, e.BetweenRunSD, e.BaselineWindows)
				}
			}
		})
	}
}

// runReport runs the whole verdict step over one interface.
func reportRuns(base, cur []runSample) map[string]*MetricResult {
	names := []string{"api"}
	return byMetric(runVerdicts(map[string][]runSample{"api": base}, map[string][]runSample{"api": cur}, names, DefaultOptions())[0])
}

// TestRunsDecideOneVsOne is the case that motivated runs as the unit: one
// monthly run of about 6,000 requests against the month before, p50 up by
// 41.7% and p99 by 40.4%; days gave insufficient_data for every latency
// metric. Generated with the run-to-run and within-run noise of a fixed
// environment, over 20 seeds.
func TestRunsDecideOneVsOne(t *testing.T) {
	t.Parallel()
	var p50, p99, stable int
	for seed := range uint64(20) {
		cfg := synth.RunsConfig{Seed: seed, MinDuration: 10 * time.Minute, MaxDuration: 10 * time.Minute,
			Times: []time.Time{day, day.AddDate(0, 1, 0)},
			Interfaces: []synth.Interface{{Name: "api", RPS: 10, Median: 80 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001,
				Changes: []synth.Change{{Kind: synth.LatencyStep, At: day.AddDate(0, 0, 15), Size: 0.417}}}},
		}
		runs, err := cfg.Runs()
		if err != nil {
			t.Fatal(err)
		}
		s := samplesOf(runs)["api"]
		rs := reportRuns(s[:1], s[1:])
		if rs[c.BaselineLatencyP50].Verdict == VerdictRegressed {
			p50++
		}
		if rs[c.BaselineLatencyP99].Verdict == VerdictRegressed {
			p99++
		}
		if rs[c.BaselineBusinessSuccess].Verdict == VerdictStable {
			stable++
		}
		if seed == 0 {
			t.Logf("seed 0, %v requests per run: %s", s[1].Counts.Completed(), runSummary(runVerdicts(
				map[string][]runSample{"api": s[:1]}, map[string][]runSample{"api": s[1:]}, []string{"api"}, DefaultOptions())[0]))
		}
	}
	if p50 < 20 || p99 < 18 || stable < 18 {
		t.Errorf("of 20: p50 regressed %d (want 20), p99 regressed %d (want >= 18), business success stable %d (want >= 18)", p50, p99, stable)
	}
}

// TestRunsWobbleIsNotARegression: when the baseline runs show that runs of
// this interface differ by about 8% from one another, a current run 13%
// slower is ordinary wobble, not a regression, although it is beyond the
// 10% tolerance and far beyond the noise inside the runs. With one
// baseline run that spread is unknown and the same run is a regression:
// the documented limit of one run against one run. Quiet baseline runs
// make a 25% rise a regression.
func TestRunsWobbleIsNotARegression(t *testing.T) {
	t.Parallel()
	small := []float64{0.002, -0.001, 0.001, 0, -0.002, 0.001, -0.001, 0}
	runsAt := func(effects []float64) []runSample {
		var out []runSample
		for i, e := range effects {
			out = append(out, lognormalRun(fmt.Sprintf("b%d", i), day.AddDate(0, 0, 7*i), 0.05*math.Exp(e), 0.5, 50000, small, 0.01, 0.001))
		}
		return out
	}
	noisy := runsAt([]float64{0, 0.1, -0.08, 0.05, -0.07, 0.09})
	quiet := runsAt([]float64{0, 0.01, -0.008, 0.005, -0.007, 0.009})
	var mu float64
	for _, e := range []float64{0, 0.1, -0.08, 0.05, -0.07, 0.09} {
		mu += e / 6
	}
	cur := []runSample{lognormalRun("c", day.AddDate(0, 2, 0), 0.05*math.Exp(mu+0.13), 0.5, 50000, small, 0.01, 0.001)}

	r := reportRuns(noisy, cur)[c.BaselineLatencyP50]
	if r.Verdict != VerdictStable || float64(r.Change) < 0.1 {
		t.Errorf("noisy baseline runs: %s, change %.3f, p %.3g: want stable despite a change beyond the tolerance", r.Verdict, float64(r.Change), float64(r.PValue))
	}
	if sd := float64(r.Evidence.BetweenRunSD); sd < 0.05 || sd > 0.12 {
		t.Errorf("between-run sd %.3f, want about 0.08", sd)
	}
	if r := reportRuns(noisy[:1], cur)[c.BaselineLatencyP50]; r.Verdict != VerdictRegressed || r.Test != StatWindowWelch {
		t.Errorf("one baseline run: %s by %s, want regressed by %s (the tolerance is the only guard)", r.Verdict, r.Test, StatWindowWelch)
	}
	up := []runSample{lognormalRun("c", day.AddDate(0, 2, 0), 0.05*1.25, 0.5, 50000, small, 0.01, 0.001)}
	if r := reportRuns(quiet, up)[c.BaselineLatencyP50]; r.Verdict != VerdictRegressed || r.Test != StatRunLevelT {
		t.Errorf("quiet baseline runs, +25%%: %s by %s, want regressed by %s", r.Verdict, r.Test, StatRunLevelT)
	}
}

// TestRunLevelCalibration: with no change, the level test rejects at 5%
// about 5% of the time, whether the runs are one each side (windows,
// autocorrelated) or several (between-run spread), and with the spread
// moderated by a prior estimated as the report's other interfaces would
// (right on average, worth runPriorDF runs). Without a prior, two baseline runs
// leave tau with one degree of freedom and the within-run floor makes the
// test conservative (it rejects far less than 5%): the report's other
// interfaces supply the prior that makes it usable.
func TestRunLevelCalibration(t *testing.T) {
	t.Parallel()
	trials := 4000
	if raceEnabled || testing.Short() {
		trials = 800
	}
	rng := rand.New(rand.NewPCG(9, 9))
	var lines []string
	right := runPrior{tau2: 0.03 * 0.03, df: runPriorDF, rho: math.NaN()} // drawn per trial below
	for _, tc := range []struct {
		k, m, w  int
		tau, rho float64
		pr       runPrior
		lo, hi   float64
	}{
		{1, 1, 10, 0, 0, noPrior(), 0.01, 0.08},
		{1, 1, 10, 0, 0.3, noPrior(), 0.02, 0.09},
		{1, 1, 5, 0, 0.3, noPrior(), 0.02, 0.09},
		{2, 1, 8, 0.03, 0.3, noPrior(), 0, 0.05},
		{3, 1, 8, 0.03, 0.3, noPrior(), 0.01, 0.07},
		{6, 2, 8, 0.03, 0.3, noPrior(), 0.025, 0.08},
		{12, 4, 8, 0.03, 0.3, noPrior(), 0.025, 0.08},
		{6, 1, 8, 0.003, 0.3, noPrior(), 0.005, 0.08}, // wobble below the within-run noise
		{2, 1, 8, 0.03, 0.3, right, 0.025, 0.08},
		{3, 1, 8, 0.03, 0.3, right, 0.025, 0.08},
		{1, 1, 8, 0.03, 0.3, right, 0.025, 0.08},
	} {
		const sw = 0.02 // window noise, log units
		run := func() runObs {
			a := tc.tau * rng.NormFloat64()
			var o runObs
			e := sw * rng.NormFloat64()
			for range tc.w {
				o.windows = append(o.windows, a+e)
				e = tc.rho*e + math.Sqrt(1-tc.rho*tc.rho)*sw*rng.NormFloat64()
			}
			o.level = mean(o.windows)
			return o
		}
		var rejects, tested int
		for range trials {
			var bo, co []runObs
			for range tc.k {
				bo = append(bo, run())
			}
			for range tc.m {
				co = append(co, run())
			}
			pr := tc.pr
			if pr.df > 0 { // the prior is itself an estimate, worth pr.df runs
				var chi2 float64
				for range int(pr.df) {
					z := rng.NormFloat64()
					chi2 += z * z
				}
				pr.tau2 *= chi2 / pr.df
			}
			lt, _, ok := testObs(bo, co, false, pr)
			if !ok || math.IsNaN(lt.p) {
				continue
			}
			tested++
			if lt.p < 0.05 {
				rejects++
			}
		}
		rate := float64(rejects) / float64(tested)
		name := fmt.Sprintf("k=%d m=%d windows=%d tau=%.3f rho=%.1f prior=%v runs", tc.k, tc.m, tc.w, tc.tau, tc.rho, tc.pr.df)
		lines = append(lines, fmt.Sprintf("%s: %.1f%% below 0.05", name, 100*rate))
		if rate < tc.lo || rate > tc.hi {
			t.Errorf("%s: %.1f%% of null p-values below 0.05, want %.1f..%.0f%%", name, 100*rate, 100*tc.lo, 100*tc.hi)
		}
	}
	t.Logf("null rejection at 5%%, %d trials each:\n%s", trials, strings.Join(lines, "\n"))
}

func TestMonthlyRuns(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.Location = time.FixedZone("UTC+8", 8*3600)
	at := func(s string) runSample {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, o.Location)
		if err != nil {
			t.Fatal(err)
		}
		return runSample{RunID: s, Scenario: "pressure", Start: ts}
	}
	runs := []runSample{
		at("2025-05-20 10:00"), at("2025-01-31 23:00"), at("2025-02-01 00:30"), at("2025-04-02 10:00"),
		at("2025-05-01 00:00"), at("2025-06-01 00:00"), at("2025-03-15 10:00"),
	}
	base, cur := monthlyRuns(runs, Month{2025, time.May}, o)
	ids := func(rs []runSample) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.RunID)
		}
		return strings.Join(s, ",")
	}
	if got, want := ids(cur), "2025-05-01 00:00,2025-05-20 10:00"; got != want {
		t.Errorf("current %s, want %s", got, want)
	}
	if got, want := ids(base), "2025-02-01 00:30,2025-03-15 10:00,2025-04-02 10:00"; got != want {
		t.Errorf("baseline %s, want %s (February to April in the report's zone)", got, want)
	}

	other := at("2025-04-20 10:00")
	other.Scenario = "soak"
	runs = append(runs, other)
	if got, want := ids(previousRuns(runs, cur, 2)), "2025-03-15 10:00,2025-04-02 10:00"; got != want {
		t.Errorf("previous 2 runs %s, want %s (the soak run is another scenario)", got, want)
	}
	if got := previousRuns(runs, nil, 2); got != nil {
		t.Errorf("no current runs: %v", got)
	}
}

func TestRunEvidenceJSON(t *testing.T) {
	t.Parallel()
	rs := compareRuns([]runSample{lognormalRun("b", day, 0.05, 0.5, 30000, wander, 0.01, 0.001)},
		[]runSample{lognormalRun("c", day.AddDate(0, 1, 0), 0.06, 0.5, 30000, wander, 0.01, 0.001)}, DefaultOptions())
	b, err := json.Marshal(rs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"test":"window_welch_t"`, `"n_baseline":1`, `"unit":"runs"`, `"baseline_runs":1`,
		`"baseline_windows":8`, `"between_run_sd":null`, `"within_run_sd":0.0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	daily, _ := json.Marshal(&MetricResult{Baseline: 1, Current: 1, Change: 0, PValue: 1, QValue: 1})
	if strings.Contains(string(daily), "evidence") {
		t.Errorf("a daily result carries evidence: %s", daily)
	}
}

// samplesOf maps generated runs onto the analyzer's input, as the wiring
// maps decoded run records.
func samplesOf(runs []synth.Run) map[string][]runSample {
	out := map[string][]runSample{}
	for _, r := range runs {
		for _, in := range r.Interfaces {
			s := runSample{RunID: r.ID, Scenario: "pressure", Start: r.Start, End: r.End, Active: in.Active,
				Counts:  Counts{Success: in.Success, BusinessFailure: in.BusinessFailure, SystemFailure: in.SystemFailure, Scheduled: in.Scheduled, Dropped: in.Dropped},
				Buckets: in.Buckets}
			for _, w := range in.Windows {
				s.Windows = append(s.Windows, runWindow{Start: w.Start, End: w.End,
					Counts: Counts{Success: w.Success, BusinessFailure: w.BusinessFailure, SystemFailure: w.SystemFailure},
					P50:    w.P50, P90: w.P90, P99: w.P99})
			}
			out[in.Name] = append(out[in.Name], s)
		}
	}
	return out
}

func runSummary(rs []*MetricResult) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s=%s(%+.3g,p=%.2g,q=%.2g", strings.TrimSuffix(c.BaselineMetrics[r.metric], "_seconds"), r.Verdict, float64(r.Change), float64(r.PValue), float64(r.QValue))
		if e := r.Evidence; e != nil && r.Test != "" {
			fmt.Fprintf(&b, ",tau=%.3g,w=%.3g,df=%.3g", float64(e.BetweenRunSD), float64(e.WithinRunSD), float64(e.DF))
		}
		b.WriteString(") ")
	}
	return b.String()
}
