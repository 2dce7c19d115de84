package analyzer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Report units: what one observation of the statistics is.
const (
	// UnitDays: daily values of continuous traffic (rank tests).
	UnitDays = "days"
	// UnitRuns is also RunEvidence.Unit: each pressure-test run is one
	// observation, its within-run windows the noise inside it.
)

// SourceRuns is the Source.Kind of a baseline made of runs.
const SourceRuns = "runs"

// DefaultBaselineRuns is how many previous runs of the same scenario a run
// is compared with when no baseline is named: enough to measure how much
// runs of an unchanged system differ from each other (with two, the
// between-run spread has a single degree of freedom), few enough that the
// baseline is recent.
const DefaultBaselineRuns = 3

// runHistory is how far back runs are looked for.
const runHistory = 5 * 365 * 24 * time.Hour

// RunBaseline says what a run is compared with; the zero value is the
// DefaultBaselineRuns previous runs of its scenario.
type RunBaseline struct {
	// RunIDs names the baseline runs.
	RunIDs []string
	// Previous is how many previous runs of the scenario; 0 is
	// DefaultBaselineRuns.
	Previous int
	// File is a saved baseline holding runs (`perfbase baseline save
	// --run`), read from FilePath.
	File     *Baseline
	FilePath string
}

// SavedRun is a run frozen in a baseline file, with what comparisons of
// runs need: counts, buckets and the within-run windows per interface.
type SavedRun struct {
	RunID      string              `json:"run_id"`
	Scenario   string              `json:"scenario"`
	Start      time.Time           `json:"start"`
	End        time.Time           `json:"end"`
	Interfaces []SavedRunInterface `json:"interfaces"`
}

// SavedRunInterface is one interface of a saved run.
type SavedRunInterface struct {
	Name          string  `json:"name"`
	ActiveSeconds float64 `json:"active_seconds"`
	Counts        Counts  `json:"counts"`
	// Bounds are the finite bucket bounds when not the standard layout;
	// Buckets the cumulative counts per bound, then +Inf.
	Bounds  []float64     `json:"bounds,omitempty"`
	Buckets []float64     `json:"buckets"`
	Windows []SavedWindow `json:"windows,omitempty"`
}

// SavedWindow is one within-run window of a saved run.
type SavedWindow struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Counts Counts    `json:"counts"`
	P50    Num       `json:"p50"`
	P90    Num       `json:"p90"`
	P99    Num       `json:"p99"`
}

func savedOf(s runSample, name string) SavedRunInterface {
	out := SavedRunInterface{Name: name, ActiveSeconds: s.Active, Counts: s.Counts, Bounds: s.Bounds, Buckets: s.Buckets}
	for _, w := range s.Windows {
		out.Windows = append(out.Windows, SavedWindow{Start: w.Start, End: w.End, Counts: w.Counts,
			P50: Num(w.P50), P90: Num(w.P90), P99: Num(w.P99)})
	}
	return out
}

func (r SavedRun) samples() map[string]runSample {
	out := map[string]runSample{}
	for _, in := range r.Interfaces {
		s := runSample{RunID: r.RunID, Scenario: r.Scenario, Start: r.Start, End: r.End,
			Active: in.ActiveSeconds, Counts: in.Counts, Bounds: in.Bounds, Buckets: in.Buckets}
		for _, w := range in.Windows {
			s.Windows = append(s.Windows, runWindow{Start: w.Start, End: w.End, Counts: w.Counts,
				P50: float64(w.P50), P90: float64(w.P90), P99: float64(w.P99)})
		}
		out[in.Name] = s
	}
	return out
}

// findRun returns the run with the given id among runs.
func findRun(runs []RunInfo, id string) (RunInfo, bool) {
	for _, r := range runs {
		if r.RunID == id {
			return r, true
		}
	}
	return RunInfo{}, false
}

// BuildRunReport compares one run with its baseline runs, interface by
// interface, with the statistics of runs (see runstats.go).
func BuildRunReport(ctx context.Context, q Querier, o Options, runID string, pin RunBaseline) (*Report, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if runID == "" {
		return nil, fmt.Errorf("%w: no run id", ErrInvalidOptions)
	}
	now := o.Now()
	runs, err := ListRuns(ctx, q, RunQuery{From: now.Add(-runHistory), To: now.Add(time.Minute)})
	if err != nil {
		return nil, err
	}
	cur, ok := findRun(runs, runID)
	if !ok {
		return nil, fmt.Errorf("%w: run %q (no record of it in the last %d years)", ErrNoRuns, runID, int(runHistory.Hours()/24/365))
	}
	var baseRuns []RunInfo
	var saved []SavedRun
	switch {
	case pin.File != nil:
		if len(pin.File.Runs) == 0 {
			return nil, fmt.Errorf("%w: baseline file %s holds no runs (save one with 'perfbase baseline save --run')", ErrInvalidOptions, pin.FilePath)
		}
		saved = pin.File.Runs
	case len(pin.RunIDs) > 0:
		for _, id := range pin.RunIDs {
			if id == runID {
				return nil, fmt.Errorf("%w: run %q is both the current and a baseline run", ErrInvalidOptions, id)
			}
			r, ok := findRun(runs, id)
			if !ok {
				return nil, fmt.Errorf("%w: baseline run %q", ErrNoRuns, id)
			}
			baseRuns = append(baseRuns, r)
		}
	default:
		n := pin.Previous
		if n <= 0 {
			n = DefaultBaselineRuns
		}
		for _, r := range runs {
			if r.Scenario == cur.Scenario && r.Start.Before(cur.Start) && r.RunID != runID {
				baseRuns = append(baseRuns, r)
			}
		}
		if len(baseRuns) > n {
			baseRuns = baseRuns[len(baseRuns)-n:]
		}
		if len(baseRuns) == 0 {
			return nil, fmt.Errorf("%w: run %q is the first recorded run of scenario %q; name a baseline with --baseline-run or --baseline-file", ErrNoRuns, runID, cur.Scenario)
		}
	}
	f := newFetcher(q, o)
	loaded, err := f.loadRuns(ctx, append([]RunInfo{cur}, baseRuns...))
	if err != nil {
		return nil, err
	}
	curSamples := map[string][]runSample{}
	for name, s := range loaded[runID] {
		curSamples[name] = []runSample{s}
	}
	baseSamples := map[string][]runSample{}
	src := Source{Kind: SourceRuns}
	for _, r := range baseRuns {
		for name, s := range loaded[r.RunID] {
			baseSamples[name] = append(baseSamples[name], s)
		}
		src.Runs = append(src.Runs, r.RunID)
		src.Start, src.End = startOf(src.Start, r.Start), maxTime(src.End, r.End)
	}
	for _, r := range saved {
		for name, s := range r.samples() {
			baseSamples[name] = append(baseSamples[name], s)
		}
		src.Runs = append(src.Runs, r.RunID)
		src.Start, src.End = startOf(src.Start, r.Start), maxTime(src.End, r.End)
	}
	if pin.File != nil {
		src.File = pin.FilePath
	}
	rep := runReport(baseSamples, curSamples, o)
	rep.Baseline = src
	rep.Run = &cur
	for _, r := range baseRuns {
		if r.GeneratorSaturated {
			rep.SaturatedBaselines = append(rep.SaturatedBaselines, r.RunID)
		}
	}
	rep.Timezone = o.Location.String()
	rep.UnitReason = fmt.Sprintf("run %s against %d baseline run(s): each run is one observation, its %s windows the noise within it",
		runID, len(src.Runs), runrecordWindow)
	return rep, nil
}

// runrecordWindow names the within-run windows for reports.
const runrecordWindow = "per-minute"

func startOf(a, b time.Time) time.Time {
	if a.IsZero() {
		return b
	}
	return minTime(a, b)
}

// runReport builds the report body of a comparison of runs: per interface
// the metric results with their evidence, requests per run, verdicts.
func runReport(base, cur map[string][]runSample, o Options) *Report {
	names := runNames(base, cur)
	results := runVerdicts(base, cur, names, o)
	rep := &Report{
		Generated: o.Now().UTC().Truncate(time.Second), Unit: UnitRuns, Verdict: VerdictStable,
		Settings: Settings{LatencyTolerance: o.LatencyTolerance, SuccessTolerance: o.SuccessTolerance,
			ThroughputTolerance: o.ThroughputTolerance, FDR: o.FDR},
		Interfaces: make([]InterfaceReport, 0, len(names)),
	}
	for i, n := range names {
		ir := InterfaceReport{Name: n, Verdict: overall(results[i]), Metrics: map[string]*MetricResult{},
			ChangePoints: []ChangePoint{}, Trends: []Trend{}, Trend: []TrendPoint{}, PeakThroughput: nan(), DroppedRatio: nan()}
		ir.Requests.Baseline, ir.Requests.Current = perRun(base[n]), perRun(cur[n])
		if cs := cur[n]; len(cs) > 0 {
			sd := mergeSide(cs)
			ir.DroppedRatio = Num(sd.vals[mDropped])
		}
		for _, r := range results[i] {
			ir.Metrics[c.BaselineMetrics[r.metric]] = r
		}
		if ir.Verdict == VerdictRegressed {
			rep.Verdict = VerdictRegressed
		}
		rep.Interfaces = append(rep.Interfaces, ir)
	}
	return rep
}

// perRun is the mean completed requests per run, NaN without runs.
func perRun(runs []runSample) Num {
	if len(runs) == 0 {
		return nan()
	}
	var n float64
	for _, r := range runs {
		n += r.Counts.Completed()
	}
	return Num(math.Round(n / float64(len(runs))))
}

// BuildRunBaseline freezes runs as a baseline: the runs themselves, for
// `perfbase report --run --baseline-file`, and their merged figures per
// interface, for `perfbase serve` and `perfbase alerts`.
func BuildRunBaseline(ctx context.Context, q Querier, o Options, runIDs []string) (*Baseline, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if len(runIDs) == 0 {
		return nil, fmt.Errorf("%w: no run id", ErrInvalidOptions)
	}
	now := o.Now()
	runs, err := ListRuns(ctx, q, RunQuery{From: now.Add(-runHistory), To: now.Add(time.Minute)})
	if err != nil {
		return nil, err
	}
	var picked []RunInfo
	for _, id := range runIDs {
		r, ok := findRun(runs, id)
		if !ok {
			return nil, fmt.Errorf("%w: run %q", ErrNoRuns, id)
		}
		picked = append(picked, r)
	}
	loaded, err := newFetcher(q, o).loadRuns(ctx, picked)
	if err != nil {
		return nil, err
	}
	b := &Baseline{Version: BaselineVersion, Created: now.UTC().Truncate(time.Second), Timezone: o.Location.String(),
		Source: Source{Kind: SourceRuns}}
	perIface := map[string][]runSample{}
	for _, r := range picked {
		sr := SavedRun{RunID: r.RunID, Scenario: r.Scenario, Start: r.SteadyStart, End: r.End}
		for _, name := range slices.Sorted(mapsKeys(loaded[r.RunID])) {
			s := loaded[r.RunID][name]
			sr.Interfaces = append(sr.Interfaces, savedOf(s, name))
			perIface[name] = append(perIface[name], s)
		}
		b.Runs = append(b.Runs, sr)
		b.Source.Runs = append(b.Source.Runs, r.RunID)
		b.Source.Start, b.Source.End = startOf(b.Source.Start, r.SteadyStart), maxTime(b.Source.End, r.End)
	}
	for _, name := range slices.Sorted(mapsKeys(perIface)) {
		sd := mergeSide(perIface[name])
		bi := BaselineInterface{Name: name, Requests: math.Round(sd.counts.Completed()), Metrics: map[string]float64{},
			Counts: &Counts{}, Buckets: sd.bounds}
		*bi.Counts = sd.counts
		for i, v := range sd.vals {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				bi.Metrics[c.BaselineMetrics[i]] = v
			}
		}
		b.Interfaces = append(b.Interfaces, bi)
	}
	return b, nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// describeRuns is "A, B and C" for messages.
func describeRuns(ids []string) string {
	if len(ids) <= 1 {
		return strings.Join(ids, "")
	}
	return strings.Join(ids[:len(ids)-1], ", ") + " and " + ids[len(ids)-1]
}
