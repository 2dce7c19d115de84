package analyzer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Report is the comparison of one month with its baseline. Its JSON form is
// the documented, stable schema of `perfbase report --format json`.
type Report struct {
	Month    string `json:"month"`
	Timezone string `json:"timezone"`
	// Baseline says what the month is compared with.
	Baseline Source `json:"baseline"`
	// Verdict is regressed when any interface regressed.
	Verdict    string            `json:"verdict"`
	Settings   Settings          `json:"settings"`
	Interfaces []InterfaceReport `json:"interfaces"`
	Generated  time.Time         `json:"generated"`
	// Run is the run reported on (`perfbase report --run`); Month is then
	// empty.
	Run *RunInfo `json:"run,omitempty"`
	// SaturatedBaselines are baseline runs whose load generator was
	// saturated: their latencies include its queueing.
	SaturatedBaselines []string `json:"saturated_baselines,omitempty"`
	// Unit is what one observation of the statistics is, UnitRuns or
	// UnitDays, and UnitReason why.
	Unit       string `json:"unit"`
	UnitReason string `json:"unit_reason"`
}

// Settings are the tolerances and test settings a report was made with.
type Settings struct {
	LatencyTolerance    float64 `json:"latency_tolerance"`
	SuccessTolerance    float64 `json:"success_tolerance"`
	ThroughputTolerance float64 `json:"throughput_tolerance"`
	FDR                 float64 `json:"fdr"`
	RunID               string  `json:"run_id,omitempty"`
}

// InterfaceReport is one interface's part of a report.
type InterfaceReport struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	// Requests are completed steady-phase requests in each period.
	Requests struct {
		Baseline Num `json:"baseline"`
		Current  Num `json:"current"`
	} `json:"requests"`
	PeakThroughput Num `json:"peak_throughput_rps"`
	DroppedRatio   Num `json:"dropped_ratio"`
	// Metrics are keyed by conventions.Baseline* names.
	Metrics      map[string]*MetricResult `json:"metrics"`
	ChangePoints []ChangePoint            `json:"change_points"`
	// Trends are gradual changes over four weeks or more.
	Trends []Trend `json:"trends"`
	// Trend holds the monthly figures, oldest first, ending with the report month.
	Trend []TrendPoint `json:"trend"`
	// Daily is the daily series over the trend months (HTML charts only).
	Daily []Day `json:"-"`
}

// TrendPoint is one month's figures for the trend.
type TrendPoint struct {
	Month    string         `json:"month"`
	Requests float64        `json:"requests"`
	Metrics  map[string]Num `json:"metrics"`
}

// Regressed reports whether any interface regressed.
func (r *Report) Regressed() bool { return r.Verdict == VerdictRegressed }

// Regressions lists (interface, metric result) pairs that regressed.
func (r *Report) Regressions() []Regression {
	var out []Regression
	for _, in := range r.Interfaces {
		for _, key := range c.BaselineMetrics {
			if m := in.Metrics[key]; m != nil && m.Verdict == VerdictRegressed {
				out = append(out, Regression{Interface: in.Name, Metric: key, Result: m})
			}
		}
	}
	return out
}

// Regression is one metric of one interface that regressed.
type Regression struct {
	Interface string
	Metric    string
	Result    *MetricResult
}

// BaselineOptions pin a reference other than the previous months.
type BaselineOptions struct {
	// Month pins one calendar month.
	Month *Month
	// RunID pins one run, looked for in the 12 months before the report month.
	RunID string
	// File is a saved baseline.
	File *Baseline
	// FilePath names File in reports.
	FilePath string
}

// runLookback is how far back a pinned run is looked for.
const runLookback = 12

// BuildReport compares month with its baseline, reading through q.
func BuildReport(ctx context.Context, q Querier, o Options, pin BaselineOptions, month Month) (*Report, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	f := newFetcher(q, o)
	// The months shown in trends and searched for change points.
	trendMonths := make([]Month, 0, o.TrendMonths)
	for m := month.Add(-(o.TrendMonths - 1)); !month.Before(m); m = m.Add(1) {
		trendMonths = append(trendMonths, m)
	}
	if rep, err := monthFromRuns(ctx, q, o, pin, month, trendMonths); err != nil || rep != nil {
		return rep, err
	}
	from := trendMonths[0]
	if pin.Month == nil && pin.RunID == "" && pin.File == nil {
		if b := month.Add(-o.BaselineMonths); b.Before(from) {
			from = b
		}
	}
	days, err := f.days(ctx, from, month)
	if err != nil {
		return nil, err
	}
	base, err := buildBaseline(ctx, q, o, pin, month, f, days)
	if err != nil {
		return nil, err
	}
	loc := o.Location
	trend := map[Month]map[string]*BaselineInterface{}
	for _, m := range trendMonths {
		p, err := f.period(ctx, m.Start(loc), m.End(loc), days)
		if err != nil {
			return nil, err
		}
		trend[m] = p
	}
	cur := trend[month]

	names := map[string]bool{}
	for n := range cur {
		names[n] = true
	}
	for _, b := range base.Interfaces {
		names[b.Name] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)

	rep := &Report{
		Month: month.String(), Timezone: loc.String(), Baseline: base.Source, Generated: o.Now().UTC().Truncate(time.Second),
		Settings: Settings{LatencyTolerance: o.LatencyTolerance, SuccessTolerance: o.SuccessTolerance,
			ThroughputTolerance: o.ThroughputTolerance, FDR: o.FDR, RunID: o.RunID},
		Interfaces: make([]InterfaceReport, 0, len(sorted)),
	}
	rep.Unit = UnitDays
	rep.UnitReason = fmt.Sprintf("%s holds no recorded run: daily values of continuous traffic", month)
	results := verdicts(base, cur, sorted, o)
	rep.Verdict = VerdictStable
	for i, n := range sorted {
		ir := InterfaceReport{Name: n, Verdict: overall(results[i]), Metrics: map[string]*MetricResult{},
			ChangePoints: []ChangePoint{}, Trends: []Trend{}, PeakThroughput: nan(), DroppedRatio: nan()}
		ir.Requests.Baseline, ir.Requests.Current = nan(), nan()
		if b := base.Interface(n); b != nil {
			ir.Requests.Baseline = Num(b.Requests)
		}
		if cu := cur[n]; cu != nil {
			ir.Requests.Current = Num(cu.Requests)
			ir.PeakThroughput = Num(cu.PeakRPS)
			if v, ok := cu.Metrics[c.BaselineDroppedRatio]; ok {
				ir.DroppedRatio = Num(v)
			}
		}
		for _, r := range results[i] {
			ir.Metrics[c.BaselineMetrics[r.metric]] = r
		}
		for _, m := range trendMonths {
			tp := TrendPoint{Month: m.String(), Metrics: map[string]Num{}}
			if p := trend[m][n]; p != nil {
				tp.Requests = p.Requests
				for k, v := range p.Metrics {
					tp.Metrics[k] = Num(v)
				}
			}
			ir.Trend = append(ir.Trend, tp)
		}
		trendStart := trendMonths[0].Start(loc)
		for _, d := range days[n] {
			if !d.Date.Before(trendStart) {
				ir.Daily = append(ir.Daily, d)
			}
		}
		if ir.Verdict == VerdictRegressed {
			rep.Verdict = VerdictRegressed
		}
		rep.Interfaces = append(rep.Interfaces, ir)
	}
	findInterfaceChanges(rep.Interfaces, o)
	return rep, nil
}

// verdicts compares every named interface, then applies one
// Benjamini-Hochberg step across all interfaces and metrics.
func verdicts(base *Baseline, cur map[string]*BaselineInterface, names []string, o Options) [][]*MetricResult {
	var all []*MetricResult
	results := make([][]*MetricResult, len(names))
	for i, n := range names {
		results[i] = compare(base.Interface(n), cur[n], o)
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

// BuildBaseline computes the baseline a report for month would use: the
// BaselineMonths months before it, or the pinned month or run.
func BuildBaseline(ctx context.Context, q Querier, o Options, pin BaselineOptions, month Month) (*Baseline, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if pin.File != nil {
		return pin.File, nil
	}
	f := newFetcher(q, o)
	var days map[string][]Day
	if pin.Month == nil && pin.RunID == "" {
		var err error
		if days, err = f.days(ctx, month.Add(-o.BaselineMonths), month.Add(-1)); err != nil {
			return nil, err
		}
	}
	return buildBaseline(ctx, q, o, pin, month, f, days)
}

func buildBaseline(ctx context.Context, q Querier, o Options, pin BaselineOptions, month Month, f *fetcher, days map[string][]Day) (*Baseline, error) {
	loc := o.Location
	b := &Baseline{Version: BaselineVersion, Created: o.Now().UTC().Truncate(time.Second), Timezone: loc.String()}
	var start, end time.Time
	switch {
	case pin.File != nil:
		fb := *pin.File
		fb.Source.Kind, fb.Source.File = SourceFile, pin.FilePath
		if fb.Timezone != loc.String() {
			return nil, fmt.Errorf("%w: baseline file %s is in time zone %s, the report in %s: use --timezone %s", ErrInvalidOptions, pin.FilePath, fb.Timezone, loc, fb.Timezone)
		}
		return &fb, nil
	case pin.Month != nil:
		if !pin.Month.Before(month) {
			return nil, fmt.Errorf("%w: baseline month %s is not before the report month %s", ErrInvalidOptions, pin.Month, month)
		}
		start, end = pin.Month.Start(loc), pin.Month.End(loc)
		b.Source = Source{Kind: SourceMonth, Months: []string{pin.Month.String()}}
		var err error
		if days, err = f.days(ctx, *pin.Month, *pin.Month); err != nil {
			return nil, err
		}
	case pin.RunID != "":
		ro := o
		ro.RunID = pin.RunID
		f = newFetcher(q, ro)
		from := month.Add(-runLookback)
		var err error
		if days, err = f.days(ctx, from, month.Add(-1)); err != nil {
			return nil, err
		}
		// Narrow the period to the run's days, so its throughput and
		// months describe the run, not the lookback.
		first, last := time.Time{}, time.Time{}
		for _, ds := range days {
			for _, d := range ds {
				if first.IsZero() || d.Date.Before(first) {
					first = d.Date
				}
				if d.Date.After(last) {
					last = d.Date
				}
			}
		}
		if first.IsZero() {
			return nil, fmt.Errorf("run %q has no steady-phase data in the %d months before %s", pin.RunID, runLookback, month)
		}
		start, end = first, last.AddDate(0, 0, 1)
		b.Source = Source{Kind: SourceRun, RunID: pin.RunID}
	default:
		from := month.Add(-o.BaselineMonths)
		start, end = from.Start(loc), month.Start(loc)
		b.Source = Source{Kind: SourcePreviousMonths}
		for m := from; m.Before(month); m = m.Add(1) {
			b.Source.Months = append(b.Source.Months, m.String())
		}
	}
	b.Source.Start, b.Source.End = start, end
	if o.RunID != "" && b.Source.RunID == "" {
		b.Source.RunID = o.RunID
	}
	p, err := f.period(ctx, start, end, days)
	if err != nil {
		return nil, err
	}
	for _, bi := range p {
		b.Interfaces = append(b.Interfaces, *bi)
	}
	slices.SortFunc(b.Interfaces, func(x, y BaselineInterface) int {
		if x.Name < y.Name {
			return -1
		}
		return 1
	})
	for i := range b.Interfaces {
		for k, v := range b.Interfaces[i].Metrics {
			if math.IsNaN(v) {
				delete(b.Interfaces[i].Metrics, k)
			}
		}
	}
	return b, nil
}
