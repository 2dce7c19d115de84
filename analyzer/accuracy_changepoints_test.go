package analyzer

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
	c "github.com/perfbase/perfbase/internal/conventions"
)

// The change-point suite generates six months of daily values per
// interface (analyzer/synth and the sampling noise of sampledDays) in
// scenarios real latency series have and textbook segmentation gets
// wrong: autocorrelated day-to-day noise, long runs of tied values,
// strong weekly and month-end seasonality, and slow creeps. Every
// scenario runs both the current method (findChanges) and the method
// perfbase used before (legacyChangePoints) on the same histories, so
// docs/analyzer.md can show both:
//
//	go test ./analyzer -run TestChangePointSuite -v

// changeMethod is a change-point search as BuildReport calls it.
type changeMethod func(days []Day, metric, minSeg int, tol float64) ([]ChangePoint, []Trend)

func legacyMethod(days []Day, metric, minSeg int, tol float64) ([]ChangePoint, []Trend) {
	return legacyChangePoints(days, metric, minSeg, tol), nil
}

// cpScenario is one kind of generated history.
type cpScenario struct {
	name string
	// phi is the range of the AR(1) coefficient of the day-to-day noise.
	phi [2]float64
	// ties rounds latencies to a grid 1.5 to 3 times their daily noise,
	// so that many consecutive days read exactly the same.
	ties bool
	// seasonal makes the weekend 20-40% lighter and the last three days
	// of each month 10-30% slower.
	seasonal bool
	// change is "" (a control with one awful day), "step" (a latency step
	// of 2 to 6 tolerances or a success dip of 3 to 20 tolerances) or
	// "creep" (latency rising 20-60% over 6 to 21 weeks).
	change string
}

var cpScenarios = []cpScenario{
	{name: "control, independent days", phi: [2]float64{0, 0}},
	{name: "control, AR(1) 0.5-0.9", phi: [2]float64{0.5, 0.9}},
	{name: "control, ties", phi: [2]float64{0, 0.9}, ties: true},
	{name: "control, seasonal", phi: [2]float64{0, 0.9}, seasonal: true},
	{name: "step, independent days", phi: [2]float64{0, 0}, change: "step"},
	{name: "step, AR(1) 0.5-0.9", phi: [2]float64{0.5, 0.9}, change: "step"},
	{name: "step, ties", phi: [2]float64{0, 0.9}, ties: true, change: "step"},
	{name: "step, seasonal", phi: [2]float64{0, 0.9}, seasonal: true, change: "step"},
	{name: "creep, independent days", phi: [2]float64{0, 0}, change: "creep"},
	{name: "creep, AR(1) 0.5-0.9", phi: [2]float64{0.5, 0.9}, change: "creep"},
}

// cpTally scores one method on one scenario.
type cpTally struct {
	series int
	// controls: series with any change point or trend, and their count
	falseSeries, falseCPs, falseTrends int
	// steps: found within 3 days on the right metric; other change points
	found, extraCPs int
	// creeps: reported as a trend on p50 or p99, the relative error of its
	// slope, and creeps reported only as change points
	trends   int
	slopeErr []float64
	// startErr is how many days the trend's start is off
	startErr []float64
	asSteps  int
	// ties: share of consecutive days with equal p50
	tiedPairs, pairs int
	notes            []string
}

// cpHistory generates one trial of sc: the days as read and the truth.
type cpHistory struct {
	days   []Day
	kind   synth.ChangeKind
	at     time.Time
	change synth.Change
	bad    time.Time
}

func genHistory(sc cpScenario, seed uint64) cpHistory {
	rng := rand.New(rand.NewPCG(seed, 17))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 6, 0)
	cfg := synth.Config{Start: start, End: end, Seed: seed,
		Weekly: 0.1 + rng.Float64()*0.15, MissingDays: rng.Float64() * 0.1, DayNoise: 0.03 + rng.Float64()*0.05,
		DayNoiseAR: sc.phi[0] + rng.Float64()*(sc.phi[1]-sc.phi[0])}
	if sc.seasonal {
		cfg.Weekly, cfg.MonthEnd = 0.2+rng.Float64()*0.2, 0.1+rng.Float64()*0.2
	}
	in := randomInterface(rng, "if")
	h := cpHistory{}
	switch sc.change {
	case "step":
		h.kind = accuracyKinds[[]int{0, 2, 3}[seed%3]]
		h.at = start.AddDate(0, 0, 30+rng.IntN(120))
		h.change = randomChange(rng, h.kind, h.at)
		h.change.Ramp = 0
		in.Changes = []synth.Change{h.change}
	case "creep":
		h.kind = synth.LatencyCreep
		h.at = start.AddDate(0, 0, 20+rng.IntN(80))
		h.change = synth.Change{Kind: synth.LatencyCreep, At: h.at, Size: 0.2 + rng.Float64()*0.4,
			Ramp: time.Duration(42+rng.IntN(106)) * 24 * time.Hour}
		in.Changes = []synth.Change{h.change}
	default:
		h.bad = start.AddDate(0, 0, 20+rng.IntN(140))
		if seed%2 == 0 {
			in.Changes = []synth.Change{{Kind: synth.LatencyStep, At: h.bad, Until: h.bad.AddDate(0, 0, 1), Size: 2}}
		} else {
			in.Changes = []synth.Change{{Kind: synth.BusinessDip, At: h.bad, Until: h.bad.AddDate(0, 0, 1), Size: 0.05}}
		}
	}
	cfg.Interfaces = []synth.Interface{in}
	h.days = sampledDays(rng, cfg.Days()[in.Name])
	if sc.ties {
		quantize(h.days, (1.5+rng.Float64()*1.5)*cfg.DayNoise)
	}
	return h
}

// quantize rounds each latency quantile to a grid of rel times its median
// level, as coarse recording does.
func quantize(days []Day, rel float64) {
	for _, q := range quantiles {
		var vs []float64
		for _, d := range days {
			vs = append(vs, d.Values[q.idx])
		}
		step := median(vs) * rel
		for i := range days {
			days[i].Values[q.idx] = math.Max(step, math.Round(days[i].Values[q.idx]/step)*step)
		}
	}
}

// score runs method on h and adds the outcome to t.
func (t *cpTally) score(sc cpScenario, seed uint64, h cpHistory, method changeMethod, tolScale float64) {
	o := DefaultOptions()
	var cps []ChangePoint
	var trends []Trend
	for _, m := range changePointMetrics {
		tol := o.LatencyTolerance
		if m == mBusiness || m == mSystem {
			tol = o.SuccessTolerance
		}
		cp, tr := method(h.days, m, o.MinSegment, tol*tolScale)
		cps, trends = append(cps, cp...), append(trends, tr...)
	}
	t.series++
	for i := 1; i < len(h.days); i++ {
		t.pairs++
		if h.days[i].Values[mP50] == h.days[i-1].Values[mP50] {
			t.tiedPairs++
		}
	}
	note := func(format string, a ...any) {
		if len(t.notes) < 6 {
			t.notes = append(t.notes, fmt.Sprintf("seed %d: ", seed)+fmt.Sprintf(format, a...))
		}
	}
	switch sc.change {
	case "":
		t.falseCPs += len(cps)
		t.falseTrends += len(trends)
		if len(cps)+len(trends) > 0 {
			t.falseSeries++
			note("control (awful day %s): %v %v", h.bad.Format(time.DateOnly), cps, trends)
		}
	case "step":
		want := map[synth.ChangeKind]string{synth.LatencyStep: c.BaselineLatencyP50 + c.BaselineLatencyP99,
			synth.BusinessDip: c.BaselineBusinessSuccess, synth.SystemDip: c.BaselineSystemSuccess}[h.kind]
		hit := false
		for _, cp := range cps {
			d, _ := time.Parse(time.DateOnly, cp.Date)
			if strings.Contains(want, cp.Metric) && math.Abs(d.Sub(h.at).Hours()) <= 72 {
				hit = true
			} else {
				t.extraCPs++
			}
		}
		if hit {
			t.found++
		} else {
			note("%s %+.3f at %s missed: %v %v", h.kind, h.change.Size, h.at.Format(time.DateOnly), cps, trends)
		}
	case "creep":
		// the true slope per 30 days, compounded as Trend reports it
		days := h.change.Ramp.Hours() / 24
		truth := math.Exp(math.Log1p(h.change.Size)*30/days) - 1
		best, startErr := math.Inf(1), 0.0
		for _, tr := range trends {
			if tr.Metric != c.BaselineLatencyP50 && tr.Metric != c.BaselineLatencyP99 || tr.Change <= 0 {
				continue
			}
			if e := math.Abs(tr.SlopePer30d/truth - 1); e < best {
				start, _ := time.Parse(time.DateOnly, tr.Start)
				best, startErr = e, math.Abs(start.Sub(h.at).Hours()/24)
			}
		}
		if !math.IsInf(best, 1) {
			t.trends++
			t.slopeErr = append(t.slopeErr, best)
			t.startErr = append(t.startErr, startErr)
		} else {
			if len(cps) > 0 {
				t.asSteps++
			}
			note("creep %+.2f over %.0f days from %s missed: %v %v", h.change.Size, days, h.at.Format(time.DateOnly), cps, trends)
		}
	}
}

func (t *cpTally) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d series", t.series)
	if t.pairs > 0 && t.tiedPairs*10 > t.pairs {
		fmt.Fprintf(&b, " (%.0f%% of consecutive p50 days tied)", 100*float64(t.tiedPairs)/float64(t.pairs))
	}
	switch {
	case t.found > 0 || t.extraCPs > 0:
		fmt.Fprintf(&b, ": found within 3 days %d (%.1f%%), other change points %d", t.found, pctOf(t.found, t.series), t.extraCPs)
	case len(t.slopeErr) > 0 || t.asSteps > 0:
		fmt.Fprintf(&b, ": as trends %d (%.1f%%), median slope error %.0f%%, start off by a median %.0f days, only as change points %d",
			t.trends, pctOf(t.trends, t.series), 100*medianOr0(t.slopeErr), medianOr0(t.startErr), t.asSteps)
	default:
		fmt.Fprintf(&b, ": with a false change %d (%.1f%%), change points %d, trends %d", t.falseSeries, pctOf(t.falseSeries, t.series), t.falseCPs, t.falseTrends)
	}
	return b.String()
}

func pctOf(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }

func medianOr0(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return median(v)
}

// suiteTrials is the number of histories per scenario: enough for a
// rate of 95% to be told from 90%, and few enough for -race.
const suiteTrials = 200

// TestChangePointSuite measures both methods on every scenario and holds
// the current one to its targets: on controls at most one series in 50
// with a false change, steps of two tolerances or more found within 3
// days in 95% of series, creeps reported as trends with their slope.
func TestChangePointSuite(t *testing.T) {
	t.Parallel()
	n := suiteTrials
	for si, sc := range cpScenarios {
		var cur, old, curNoTol, oldNoTol cpTally
		for s := range n {
			seed := uint64(si*10000 + s + 1)
			h := genHistory(sc, seed)
			cur.score(sc, seed, h, findChanges, 1)
			old.score(sc, seed, h, legacyMethod, 1)
			if sc.change == "" {
				curNoTol.score(sc, seed, h, findChanges, 1e-9)
				oldNoTol.score(sc, seed, h, legacyMethod, 1e-9)
			}
		}
		t.Logf("%-26s current: %s", sc.name, &cur)
		t.Logf("%-26s legacy:  %s", sc.name, &old)
		if sc.change == "" {
			t.Logf("%-26s current, tolerance 0: %s", sc.name, &curNoTol)
			t.Logf("%-26s legacy, tolerance 0:  %s", sc.name, &oldNoTol)
		}
		for _, m := range cur.notes {
			t.Logf("    %s", m)
		}
		switch sc.change {
		case "":
			if cur.falseSeries*50 > cur.series {
				t.Errorf("%s: %d of %d series with a false change, want at most 1 in 50", sc.name, cur.falseSeries, cur.series)
			}
			if curNoTol.falseSeries*20 > curNoTol.series {
				t.Errorf("%s, tolerance 0: %d of %d series with a false change, want at most 1 in 20", sc.name, curNoTol.falseSeries, curNoTol.series)
			}
		case "step":
			if cur.found*100 < 95*cur.series {
				t.Errorf("%s: %d of %d steps found within 3 days, want 95%%", sc.name, cur.found, cur.series)
			}
		case "creep":
			if want := creepTarget(sc); cur.trends*100 < want*cur.series {
				t.Errorf("%s: %d of %d creeps reported as trends, want %d%%", sc.name, cur.trends, cur.series, want)
			}
			if m := medianOr0(cur.slopeErr); m > 0.25 {
				t.Errorf("%s: median slope error %.0f%%, want at most 25%%", sc.name, 100*m)
			}
		}
	}
}

// creepTarget is the share of creeps to report as trends: a slow creep
// under strongly autocorrelated noise is partly indistinguishable from
// the noise's own wander.
func creepTarget(sc cpScenario) int {
	if sc.phi[1] > 0 {
		return 75
	}
	return 95
}

// monthlyTally scores change dates across successive monthly reports.
type monthlyTally struct {
	// tracked: (change, metric) pairs listed by at least one report;
	// moved: those given more than one date.
	tracked, moved int
	// eligible: changes with minSeg days after them before the end of
	// some report month; prompt: listed by the first such report.
	eligible, prompt int
	notes            []string
}

// runMonthly generates one year with two changes and builds the change
// points of the twelve monthly reports from the same daily values, each
// over the trend window a report searches (TrendMonths ending with the
// report month).
func runMonthly(seed uint64, phi [2]float64, method changeMethod, t *monthlyTally) {
	rng := rand.New(rand.NewPCG(seed, 23))
	o := DefaultOptions()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := synth.Config{Start: start, End: start.AddDate(1, 0, 0), Seed: seed,
		Weekly: 0.1 + rng.Float64()*0.15, MissingDays: rng.Float64() * 0.1, DayNoise: 0.03 + rng.Float64()*0.05,
		DayNoiseAR: phi[0] + rng.Float64()*(phi[1]-phi[0])}
	in := randomInterface(rng, "if")
	type truth struct {
		kind synth.ChangeKind
		at   time.Time
	}
	var truths []truth
	for i := range 2 {
		kind := accuracyKinds[[]int{0, 2, 3}[rng.IntN(3)]]
		at := start.AddDate(0, 0, 40+150*i+rng.IntN(120))
		ch := randomChange(rng, kind, at)
		ch.Ramp = 0
		in.Changes = append(in.Changes, ch)
		truths = append(truths, truth{kind, at})
	}
	cfg.Interfaces = []synth.Interface{in}
	days := sampledDays(rng, cfg.Days()[in.Name])
	metrics := map[synth.ChangeKind][]int{synth.LatencyStep: {mP50, mP99}, synth.BusinessDip: {mBusiness}, synth.SystemDip: {mSystem}}
	dates := map[[2]int]map[string]bool{} // (truth, metric) -> dates given
	first := make([]bool, len(truths))
	firstSeen := make([]bool, len(truths))
	for m := (Month{2025, time.January}); !(Month{2025, time.December}).Before(m); m = m.Add(1) {
		from, end := m.Add(-(o.TrendMonths - 1)).Start(time.UTC), m.End(time.UTC)
		var window []Day
		for _, d := range days {
			if !d.Date.Before(from) && d.Date.Before(end) {
				window = append(window, d)
			}
		}
		for i, tr := range truths {
			// eligible once minSeg days at the new level are in the window
			ready := !tr.at.AddDate(0, 0, o.MinSegment).After(end) && tr.at.After(from.AddDate(0, 0, o.MinSegment))
			listed := false
			for _, metric := range metrics[tr.kind] {
				tol := o.LatencyTolerance
				if metric == mBusiness || metric == mSystem {
					tol = o.SuccessTolerance
				}
				cps, _ := method(window, metric, o.MinSegment, tol)
				for _, cp := range cps {
					d, _ := time.Parse(time.DateOnly, cp.Date)
					if math.Abs(d.Sub(tr.at).Hours()) > 7*24 {
						continue
					}
					listed = true
					key := [2]int{i, metric}
					if dates[key] == nil {
						dates[key] = map[string]bool{}
					}
					dates[key][cp.Date] = true
				}
			}
			if ready && !firstSeen[i] {
				firstSeen[i], first[i] = true, listed
			}
		}
	}
	for key, ds := range dates {
		t.tracked++
		if len(ds) > 1 {
			t.moved++
			if len(t.notes) < 6 {
				t.notes = append(t.notes, fmt.Sprintf("seed %d: %s at %s, %s given %v", seed, truths[key[0]].kind,
					truths[key[0]].at.Format(time.DateOnly), c.BaselineMetrics[key[1]], slices.Sorted(maps.Keys(ds))))
			}
		}
	}
	for i := range truths {
		if firstSeen[i] {
			t.eligible++
			if first[i] {
				t.prompt++
			}
		}
	}
}

// TestChangePointDatesAreStable: successive monthly reports over one
// history give each change the same date, and list it in the first
// report whose month ends at least MinSegment days after it. A date may
// still move once when the first report saw only a week after the
// change and the following weeks say otherwise.
func TestChangePointDatesAreStable(t *testing.T) {
	t.Parallel()
	n := suiteTrials / 2
	for _, tc := range []struct {
		name string
		phi  [2]float64
	}{{"independent days", [2]float64{0, 0}}, {"AR(1) 0.5-0.9", [2]float64{0.5, 0.9}}} {
		var cur, old monthlyTally
		for s := range n {
			runMonthly(uint64(s+1), tc.phi, findChanges, &cur)
			runMonthly(uint64(s+1), tc.phi, legacyMethod, &old)
		}
		for _, x := range []struct {
			name string
			t    *monthlyTally
		}{{"current", &cur}, {"legacy", &old}} {
			t.Logf("%-16s %-7s: %d of %d changes given more than one date; %d of %d listed by the first report that could",
				tc.name, x.name, x.t.moved, x.t.tracked, x.t.prompt, x.t.eligible)
		}
		for _, m := range cur.notes {
			t.Logf("    %s", m)
		}
		if cur.moved*100 > 3*cur.tracked {
			t.Errorf("%s: %d of %d changes given more than one date, want at most 3%%", tc.name, cur.moved, cur.tracked)
		}
		if cur.prompt*100 < 90*cur.eligible {
			t.Errorf("%s: %d of %d changes listed by the first report that could, want 90%%", tc.name, cur.prompt, cur.eligible)
		}
	}
}

// TestMonthlyReportsKeepChangeDates writes seven months of nightly runs
// into the embedded store and builds the report of each month from March
// to July through BuildReport, as a monthly job would: every report that
// lists a change gives it the same date, the first report whose month
// ends a week after a change lists it, and the steady interface has none.
// (TestChangePointDatesAreStable measures the same on many histories.)
func TestMonthlyReportsKeepChangeDates(t *testing.T) {
	t.Parallel()
	if raceEnabled {
		t.Skip("five reports over seven months of the embedded store; TestChangePointDatesAreStable covers the logic under -race")
	}
	start := Month{2025, time.January}
	stepAt := time.Date(2025, 4, 17, 0, 0, 0, 0, time.UTC)
	dipAt := time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)
	cfg := synth.Config{
		Start: start.Start(time.UTC), End: Month{2025, time.July}.End(time.UTC), Seed: 31,
		Weekly: 0.15, MissingDays: 0.05, DayNoise: 0.05, DayNoiseAR: 0.7, RunDuration: 5 * time.Minute,
		Interfaces: []synth.Interface{
			{Name: "steady", RPS: 20, Median: 40 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001},
			{Name: "slower", RPS: 15, Median: 90 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001,
				Changes: []synth.Change{{Kind: synth.LatencyStep, At: stepAt, Size: 0.3}}},
			{Name: "failing", RPS: 15, Median: 60 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.005, SystemFailure: 0.001,
				Changes: []synth.Change{{Kind: synth.BusinessDip, At: dipAt, Size: 0.01}}},
		},
	}
	db := openStore(t, cfg)
	o := fixedOptions()
	// throughput is not judged here: a coarse resolution keeps the
	// sub-daily queries cheap
	o.TrendMonths, o.Resolution = 4, 15*time.Minute
	type want struct {
		iface, metric string
		at            time.Time
	}
	wants := []want{
		{"slower", c.BaselineLatencyP50, stepAt}, {"slower", c.BaselineLatencyP99, stepAt},
		{"failing", c.BaselineBusinessSuccess, dipAt},
	}
	dates := map[want][]string{}
	for m := (Month{2025, time.March}); !(Month{2025, time.July}).Before(m); m = m.Add(1) {
		ctx, cancel := context.WithTimeout(context.Background(), testQueryTimeout)
		rep, err := BuildReport(ctx, db.Querier(), o, BaselineOptions{}, m)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range rep.Interfaces {
			if in.Name == "steady" && len(in.ChangePoints)+len(in.Trends) > 0 {
				t.Errorf("%s: steady has changes: %+v %+v", m, in.ChangePoints, in.Trends)
			}
			for _, w := range wants {
				if w.iface != in.Name {
					continue
				}
				listed := false
				for _, cp := range in.ChangePoints {
					d, _ := time.Parse(time.DateOnly, cp.Date)
					if cp.Metric == w.metric && math.Abs(d.Sub(w.at).Hours()) <= 3*24 {
						dates[w] = append(dates[w], cp.Date)
						listed = true
					}
				}
				// the first report whose month ends MinSegment days after
				// the change must list it
				firstDue := !w.at.AddDate(0, 0, o.MinSegment).After(m.End(time.UTC)) &&
					w.at.AddDate(0, 0, o.MinSegment).After(m.Start(time.UTC))
				if firstDue && !listed {
					t.Errorf("%s: the %s change of %s on %s is not listed: %+v", m, w.metric, w.iface, w.at.Format(time.DateOnly), in.ChangePoints)
				}
			}
		}
	}
	for _, w := range wants {
		ds := dates[w]
		t.Logf("%s %s (changed %s): %v", w.iface, w.metric, w.at.Format(time.DateOnly), ds)
		if len(ds) < 2 {
			t.Errorf("%s %s: listed by %d reports, want several", w.iface, w.metric, len(ds))
		}
		for _, d := range ds {
			if d != ds[0] {
				t.Errorf("%s %s: dates %v differ between reports", w.iface, w.metric, ds)
				break
			}
		}
	}
}
