package analyzer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
	c "github.com/perfbase/perfbase/internal/conventions"
)

// The accuracy suite generates many histories with known changes and
// controls and measures how often the analyzer finds the changes and how
// often it raises a false alarm. It works on the generator's daily truth
// with the sampling noise a day of requests has, so hundreds of reports
// run in seconds; TestAccuracyEndToEnd runs a smaller set through PromQL.

// accuracyCase kinds; "" is a control without change.
var accuracyKinds = []synth.ChangeKind{synth.LatencyStep, synth.LatencyCreep, synth.BusinessDip, synth.SystemDip}

// randomInterface draws a plausible interface.
func randomInterface(rng *rand.Rand, name string) synth.Interface {
	return synth.Interface{
		Name:            name,
		RPS:             5 + rng.Float64()*45,
		Median:          time.Duration((10 + rng.Float64()*290) * float64(time.Millisecond)),
		Sigma:           0.3 + rng.Float64()*0.4,
		BusinessFailure: 0.002 + rng.Float64()*0.02,
		SystemFailure:   0.0005 + rng.Float64()*0.005,
	}
}

// randomChange injects kind at the report month's start: latency +20..60%,
// or a success dip of 0.3..2 points (3 to 20 tolerances).
func randomChange(rng *rand.Rand, kind synth.ChangeKind, at time.Time) synth.Change {
	ch := synth.Change{Kind: kind, At: at}
	switch kind {
	case synth.LatencyStep:
		ch.Size = 0.2 + rng.Float64()*0.4
	case synth.LatencyCreep:
		ch.Size = 0.2 + rng.Float64()*0.4
		ch.Ramp = 14 * 24 * time.Hour // full size after two weeks, then holding
	default:
		ch.Size = 0.003 + rng.Float64()*0.017
	}
	return ch
}

// sampledDays turns the true day states into what the analyzer would have
// read: counts with binomial noise and quantiles with the sampling error of
// the day's number of requests.
func sampledDays(rng *rand.Rand, states []synth.DayState) []Day {
	var out []Day
	for _, s := range states {
		if !s.Present {
			continue
		}
		d := Day{Date: s.Date}
		active := s.End.Sub(s.Start).Seconds()
		n := s.RPS * active
		noisy := func(mean float64) float64 { return math.Max(0, math.Round(mean+rng.NormFloat64()*math.Sqrt(mean))) }
		sched := noisy(n)
		drop := noisy(sched * s.Dropped)
		done := sched - drop
		sys := noisy(done * s.SystemFailure)
		biz := noisy((done - sys) * s.BusinessFailure)
		d.Counts = Counts{Success: done - sys - biz, BusinessFailure: biz, SystemFailure: sys, Scheduled: sched, Dropped: drop}
		d.Active, d.Peak = active, s.RPS
		for i := range d.Values {
			d.Values[i] = math.NaN()
		}
		for _, q := range quantiles {
			z := math.Sqrt2 * math.Erfinv(2*q.q-1)
			se := s.Sigma * math.Sqrt(q.q*(1-q.q)/done) / (math.Exp(-z*z/2) / math.Sqrt(2*math.Pi))
			d.Values[q.idx] = s.Quantile(q.q) * math.Exp(se*rng.NormFloat64())
		}
		d.finish()
		out = append(out, d)
	}
	return out
}

// periodFromDays aggregates days in [start, end) as the backend would:
// quantiles of the merged distribution (the request-weighted mixture of
// the days' latency), ratios of summed counts.
func periodFromDays(name string, states []synth.DayState, days []Day, start, end time.Time) *BaselineInterface {
	bi := &BaselineInterface{Name: name, Metrics: map[string]float64{}, Daily: map[string][]float64{}, Counts: &Counts{}}
	var mix []synth.DayState
	var weights []float64
	var active float64
	for _, d := range days {
		if d.Date.Before(start) || !d.Date.Before(end) {
			continue
		}
		bi.Counts.Success += d.Counts.Success
		bi.Counts.BusinessFailure += d.Counts.BusinessFailure
		bi.Counts.SystemFailure += d.Counts.SystemFailure
		bi.Counts.Scheduled += d.Counts.Scheduled
		bi.Counts.Dropped += d.Counts.Dropped
		active += d.Active
		for i, v := range d.Values {
			if !math.IsNaN(v) {
				bi.Daily[c.BaselineMetrics[i]] = append(bi.Daily[c.BaselineMetrics[i]], v)
			}
		}
		for _, s := range states {
			if s.Date.Equal(d.Date) {
				mix, weights = append(mix, s), append(weights, d.Counts.Completed())
			}
		}
	}
	if bi.Counts.Completed() == 0 {
		return nil
	}
	var vals [numMetrics]float64
	ratios(&vals, *bi.Counts)
	vals[mThroughput] = bi.Counts.Completed() / active
	for _, q := range quantiles {
		vals[q.idx] = mixtureQuantile(mix, weights, q.q)
	}
	for i, v := range vals {
		if !math.IsNaN(v) && v != 0 || i == mDropped {
			bi.Metrics[c.BaselineMetrics[i]] = v
		}
	}
	bi.Requests = bi.Counts.Completed()
	return bi
}

func mixtureQuantile(days []synth.DayState, w []float64, q float64) float64 {
	var total float64
	for _, x := range w {
		total += x
	}
	cdf := func(x float64) float64 {
		var s float64
		for i, d := range days {
			s += w[i] * d.CDF(x)
		}
		return s / total
	}
	lo, hi := 1e-6, 1000.0
	for range 60 {
		mid := math.Sqrt(lo * hi)
		if cdf(mid) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Sqrt(lo * hi)
}

type accuracyTally struct {
	changes, detected map[synth.ChangeKind]int
	controls, alarms  int
	metricTests       int
	metricAlarms      int
	misses            []string
}

// runAccuracyTrial builds one report month with one interface per change
// kind and `controls` unchanged interfaces, and scores the verdicts.
func runAccuracyTrial(seed uint64, controls int, tally *accuracyTally) {
	runAccuracyTrialScaled(seed, controls, 1, tally)
}

// runAccuracyTrialScaled multiplies every injected change by scale.
func runAccuracyTrialScaled(seed uint64, controls int, scale float64, tally *accuracyTally) {
	rng := rand.New(rand.NewPCG(seed, 99))
	o := DefaultOptions()
	report := Month{2025, time.May}
	loc := time.UTC
	cfg := synth.Config{
		Start: report.Add(-o.BaselineMonths).Start(loc), End: report.End(loc), Seed: seed,
		Weekly: 0.1 + rng.Float64()*0.15, MissingDays: rng.Float64() * 0.1, DayNoise: 0.03 + rng.Float64()*0.05,
	}
	kinds := map[string]synth.ChangeKind{}
	for i, k := range accuracyKinds {
		in := randomInterface(rng, fmt.Sprintf("changed_%d", i))
		ch := randomChange(rng, k, report.Start(loc))
		ch.Size *= scale
		in.Changes = []synth.Change{ch}
		cfg.Interfaces = append(cfg.Interfaces, in)
		kinds[in.Name] = k
	}
	for i := range controls {
		cfg.Interfaces = append(cfg.Interfaces, randomInterface(rng, fmt.Sprintf("control_%d", i)))
	}
	states := cfg.Days()
	base := &Baseline{Version: BaselineVersion, Timezone: "UTC", Source: Source{Kind: SourcePreviousMonths}}
	cur := map[string]*BaselineInterface{}
	var names []string
	for _, in := range cfg.Interfaces {
		days := sampledDays(rng, states[in.Name])
		if b := periodFromDays(in.Name, states[in.Name], days, cfg.Start, report.Start(loc)); b != nil {
			base.Interfaces = append(base.Interfaces, *b)
		}
		cur[in.Name] = periodFromDays(in.Name, states[in.Name], days, report.Start(loc), report.End(loc))
		names = append(names, in.Name)
	}
	results := verdicts(base, cur, names, o)
	for i, n := range names {
		byKey := map[string]*MetricResult{}
		anyRegressed := false
		for _, r := range results[i] {
			byKey[c.BaselineMetrics[r.metric]] = r
			if r.Verdict == VerdictRegressed {
				anyRegressed = true
			}
		}
		k, changed := kinds[n]
		if !changed {
			tally.controls++
			tally.metricTests += len(results[i])
			for _, r := range results[i] {
				if r.Verdict == VerdictRegressed {
					tally.metricAlarms++
				}
			}
			if anyRegressed {
				tally.alarms++
				tally.misses = append(tally.misses, fmt.Sprintf("seed %d %s: false alarm %v", seed, n, summary(results[i])))
			}
			continue
		}
		tally.changes[k]++
		var hit bool
		switch k {
		case synth.LatencyStep, synth.LatencyCreep:
			hit = byKey[c.BaselineLatencyP50].Verdict == VerdictRegressed || byKey[c.BaselineLatencyP99].Verdict == VerdictRegressed
		case synth.BusinessDip:
			hit = byKey[c.BaselineBusinessSuccess].Verdict == VerdictRegressed
		case synth.SystemDip:
			hit = byKey[c.BaselineSystemSuccess].Verdict == VerdictRegressed
		}
		if hit {
			tally.detected[k]++
		} else {
			tally.misses = append(tally.misses, fmt.Sprintf("seed %d %s (%s): missed %v", seed, n, k, summary(results[i])))
		}
	}
}

func summary(rs []*MetricResult) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s=%s(%.3g,q=%.2g) ", c.BaselineMetrics[r.metric], r.Verdict, float64(r.Change), float64(r.QValue))
	}
	return b.String()
}

// TestAccuracyVerdicts: >= 95% of injected changes of 20% or more
// detected, < 2% of unchanged interfaces with a false alarm.
func TestAccuracyVerdicts(t *testing.T) {
	t.Parallel()
	trials, controls := 150, 6
	if raceEnabled {
		trials = 30
	}
	tally := &accuracyTally{changes: map[synth.ChangeKind]int{}, detected: map[synth.ChangeKind]int{}}
	for s := range trials {
		runAccuracyTrial(uint64(s+1), controls, tally)
	}
	var changes, detected int
	for _, k := range accuracyKinds {
		changes += tally.changes[k]
		detected += tally.detected[k]
		t.Logf("%-14s detected %d/%d (%.1f%%)", k, tally.detected[k], tally.changes[k], 100*float64(tally.detected[k])/float64(tally.changes[k]))
	}
	rate := float64(detected) / float64(changes)
	falseRate := float64(tally.alarms) / float64(tally.controls)
	t.Logf("detection %d/%d = %.1f%%; false alarms %d/%d controls = %.2f%% (%d/%d metric verdicts = %.2f%%)",
		detected, changes, 100*rate, tally.alarms, tally.controls, 100*falseRate,
		tally.metricAlarms, tally.metricTests, 100*float64(tally.metricAlarms)/float64(tally.metricTests))
	for i, m := range tally.misses {
		if i < 10 {
			t.Log(m)
		}
	}
	if rate < 0.95 {
		t.Errorf("detection rate %.1f%% < 95%%", 100*rate)
	}
	if falseRate >= 0.02 {
		t.Errorf("false alarm rate %.2f%% >= 2%%", 100*falseRate)
	}
}

// TestAccuracySmallChanges measures detection of latency changes below
// the 20% of the target: changes under the 10% tolerance must stay stable
// (practical magnitude is part of a verdict); between one and two
// tolerances detection is partial and only reported.
func TestAccuracySmallChanges(t *testing.T) {
	t.Parallel()
	trials := 60
	if raceEnabled {
		trials = 15
	}
	for _, tc := range []struct {
		name    string
		scale   float64 // latency 20..60% -> this share
		maxRate float64
	}{
		{"latency +4..12%, dips 0.06..0.4pt", 0.2, 0.5},
		{"latency +10..30%, dips 0.15..1pt", 0.5, 1},
	} {
		tally := &accuracyTally{changes: map[synth.ChangeKind]int{}, detected: map[synth.ChangeKind]int{}}
		for s := range trials {
			runAccuracyTrialScaled(uint64(1000+s), 0, tc.scale, tally)
		}
		var line []string
		for _, k := range accuracyKinds {
			line = append(line, fmt.Sprintf("%s %d/%d", k, tally.detected[k], tally.changes[k]))
		}
		t.Logf("%s: %s", tc.name, strings.Join(line, ", "))
		if r := float64(tally.detected[synth.LatencyStep]) / float64(tally.changes[synth.LatencyStep]); r > tc.maxRate {
			t.Errorf("%s: latency steps flagged %.0f%%, want at most %.0f%%", tc.name, 100*r, 100*tc.maxRate)
		}
	}
}

// TestAccuracyChangePoints: steps of 20% or more (latency) or dips of 0.3
// points or more (success) at a random day of a six-month daily series are
// found within three days; unchanged series with weekly seasonality,
// missing days and one awful day (three times slower, or 5 points less
// successful) get none.
func TestAccuracyChangePoints(t *testing.T) {
	t.Parallel()
	trials := 400
	if raceEnabled {
		trials = 100
	}
	o := DefaultOptions()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 6, 0)
	var changes, found, controls, alarms int
	var misses []string
	for s := range trials {
		rng := rand.New(rand.NewPCG(uint64(s+1), 7))
		cfg := synth.Config{Start: start, End: end, Seed: uint64(s + 1),
			Weekly: 0.1 + rng.Float64()*0.15, MissingDays: rng.Float64() * 0.1, DayNoise: 0.03 + rng.Float64()*0.05}
		kind := accuracyKinds[s%len(accuracyKinds)]
		at := start.AddDate(0, 0, 30+rng.IntN(120))
		changed := randomInterface(rng, "changed")
		ch := randomChange(rng, kind, at)
		ch.Ramp = 0 // a change point is a step; creeps are for verdicts
		changed.Changes = []synth.Change{ch}
		control := randomInterface(rng, "control")
		bad := start.AddDate(0, 0, 20+rng.IntN(140))
		if s%2 == 0 {
			control.Changes = []synth.Change{{Kind: synth.LatencyStep, At: bad, Until: bad.AddDate(0, 0, 1), Size: 2}}
		} else {
			control.Changes = []synth.Change{{Kind: synth.BusinessDip, At: bad, Until: bad.AddDate(0, 0, 1), Size: 0.05}}
		}
		cfg.Interfaces = []synth.Interface{changed, control}
		states := cfg.Days()
		find := func(name string) []ChangePoint {
			days := sampledDays(rng, states[name])
			var cps []ChangePoint
			for _, m := range changePointMetrics {
				tol := o.LatencyTolerance
				if m == mBusiness || m == mSystem {
					tol = o.SuccessTolerance
				}
				found, _ := findChanges(days, m, o.MinSegment, tol)
				cps = append(cps, found...)
			}
			return cps
		}
		changes++
		want := map[synth.ChangeKind][]string{
			synth.LatencyStep: {c.BaselineLatencyP50, c.BaselineLatencyP99}, synth.BusinessDip: {c.BaselineBusinessSuccess},
			synth.SystemDip: {c.BaselineSystemSuccess}, synth.LatencyCreep: {c.BaselineLatencyP50, c.BaselineLatencyP99},
		}[kind]
		hit := false
		cps := find("changed")
		for _, cp := range cps {
			d, _ := time.Parse(time.DateOnly, cp.Date)
			if strings.Contains(strings.Join(want, ","), cp.Metric) && math.Abs(d.Sub(at).Hours()) <= 72 {
				hit = true
			}
		}
		if hit {
			found++
		} else {
			misses = append(misses, fmt.Sprintf("seed %d %s %+.3f at %s: %+v", s+1, kind, ch.Size, at.Format(time.DateOnly), cps))
		}
		controls++
		if cps := find("control"); len(cps) > 0 {
			alarms++
			misses = append(misses, fmt.Sprintf("seed %d control (bad day %s): %+v", s+1, bad.Format(time.DateOnly), cps))
		}
	}
	rate, falseRate := float64(found)/float64(changes), float64(alarms)/float64(controls)
	t.Logf("change points: found %d/%d = %.1f%% within 3 days; false alarms %d/%d = %.2f%%", found, changes, 100*rate, alarms, controls, 100*falseRate)
	for i, m := range misses {
		if i < 10 {
			t.Log(m)
		}
	}
	if rate < 0.95 {
		t.Errorf("change point detection %.1f%% < 95%%", 100*rate)
	}
	if falseRate >= 0.02 {
		t.Errorf("change point false alarms %.2f%% >= 2%%", 100*falseRate)
	}
}

// TestAccuracyEndToEnd runs a smaller set (eight interfaces) through samples, the embedded
// store and PromQL: every change found, no control flagged.
func TestAccuracyEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() || raceEnabled {
		t.Skip("writes a history into the embedded store; TestBuildReportEmbedded covers the path under -race")
	}
	for _, seed := range []uint64{11} {
		rng := rand.New(rand.NewPCG(seed, 5))
		report := Month{2025, time.May}
		cfg := synth.Config{Start: report.Add(-3).Start(time.UTC), End: report.End(time.UTC), Seed: seed,
			Weekly: 0.15, MissingDays: 0.08, DayNoise: 0.05, Continuous: true, Interval: 20 * time.Minute}
		want := map[string]string{}
		for i, k := range accuracyKinds {
			in := randomInterface(rng, fmt.Sprintf("changed_%d", i))
			in.Changes = []synth.Change{randomChange(rng, k, report.Start(time.UTC))}
			cfg.Interfaces = append(cfg.Interfaces, in)
			want[in.Name] = VerdictRegressed
		}
		for i := range 4 {
			in := randomInterface(rng, fmt.Sprintf("control_%d", i))
			cfg.Interfaces = append(cfg.Interfaces, in)
			want[in.Name] = VerdictStable
		}
		db := openStore(t, cfg)
		rep, err := BuildReport(context.Background(), db.Querier(), fixedOptions(), BaselineOptions{}, report)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range rep.Interfaces {
			if in.Verdict != want[in.Name] {
				var rs []*MetricResult
				for _, k := range c.BaselineMetrics {
					if m := in.Metrics[k]; m != nil {
						rs = append(rs, m)
					}
				}
				t.Errorf("seed %d %s: %s, want %s: %s", seed, in.Name, in.Verdict, want[in.Name], summary(rs))
			}
		}
	}
}
