package analyzer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// monthFromRuns builds the monthly report from run records when the month
// holds recorded runs: verdicts compare runs (a month holds one or a few,
// which daily rank tests cannot judge), trends are the months' merged runs
// and the charts' and change points' series has one point per run. It
// returns nil when the month has no recorded run, so the caller keeps the
// daily method of continuous traffic.
func monthFromRuns(ctx context.Context, q Querier, o Options, pin BaselineOptions, month Month, trendMonths []Month) (*Report, error) {
	loc := o.Location
	from := trendMonths[0]
	if b := month.Add(-o.BaselineMonths); b.Before(from) {
		from = b
	}
	if pin.Month != nil && pin.Month.Before(from) {
		from = *pin.Month
	}
	runs, err := ListRuns(ctx, q, RunQuery{From: from.Start(loc), To: month.End(loc)})
	if err != nil {
		return nil, err
	}
	start, end := month.Start(loc), month.End(loc)
	var cur []RunInfo
	for _, r := range runs {
		if !r.Start.Before(start) && r.Start.Before(end) {
			cur = append(cur, r)
		}
	}
	if len(cur) == 0 {
		return nil, nil
	}
	// The baseline runs.
	var base []RunInfo
	src := Source{Kind: SourcePreviousMonths}
	var saved []SavedRun
	switch {
	case pin.File != nil:
		if len(pin.File.Runs) == 0 {
			// A baseline of days for a month of runs: not comparable in
			// kind; the caller falls back to the daily method.
			return nil, nil
		}
		saved = pin.File.Runs
		src = Source{Kind: SourceFile, File: pin.FilePath}
	case pin.RunID != "":
		all, err := ListRuns(ctx, q, RunQuery{From: month.Add(-runLookback).Start(loc), To: start})
		if err != nil {
			return nil, err
		}
		r, ok := findRun(all, pin.RunID)
		if !ok {
			return nil, fmt.Errorf("%w: baseline run %q in the %d months before %s", ErrNoRuns, pin.RunID, runLookback, month)
		}
		base = []RunInfo{r}
		src = Source{Kind: SourceRun, RunID: pin.RunID}
	case pin.Month != nil:
		if !pin.Month.Before(month) {
			return nil, fmt.Errorf("%w: baseline month %s is not before the report month %s", ErrInvalidOptions, pin.Month, month)
		}
		ps, pe := pin.Month.Start(loc), pin.Month.End(loc)
		for _, r := range runs {
			if !r.Start.Before(ps) && r.Start.Before(pe) {
				base = append(base, r)
			}
		}
		src = Source{Kind: SourceMonth, Months: []string{pin.Month.String()}}
	default:
		bs := month.Add(-o.BaselineMonths)
		for _, r := range runs {
			if !r.Start.Before(bs.Start(loc)) && r.Start.Before(start) {
				base = append(base, r)
			}
		}
		for m := bs; m.Before(month); m = m.Add(1) {
			src.Months = append(src.Months, m.String())
		}
	}
	// Every run of the trend months and of the baseline, read once.
	trendStart := trendMonths[0].Start(loc)
	want := map[string]RunInfo{}
	for _, r := range runs {
		if !r.Start.Before(trendStart) {
			want[r.RunID] = r
		}
	}
	for _, r := range base {
		want[r.RunID] = r
	}
	list := make([]RunInfo, 0, len(want))
	for _, r := range want {
		list = append(list, r)
	}
	compared := map[string]bool{}
	for _, r := range append(slices.Clone(base), cur...) {
		compared[r.RunID] = true
	}
	loaded, err := newFetcher(q, o).loadRunsByMonth(ctx, list, compared)
	if err != nil {
		return nil, err
	}
	side := func(rs []RunInfo) map[string][]runSample {
		out := map[string][]runSample{}
		for _, r := range rs {
			for name, s := range loaded[r.RunID] {
				out[name] = append(out[name], s)
			}
		}
		return out
	}
	baseSamples, curSamples := side(base), side(cur)
	for _, r := range saved {
		for name, s := range r.samples() {
			baseSamples[name] = append(baseSamples[name], s)
		}
	}
	for _, r := range base {
		src.Runs = append(src.Runs, r.RunID)
	}
	for _, r := range saved {
		src.Runs = append(src.Runs, r.RunID)
	}
	if src.Kind == SourcePreviousMonths || src.Kind == SourceMonth {
		src.Runs = nil // the months say it; the evidence counts the runs
		src.Start, src.End = from.Start(loc), start
		if src.Kind == SourceMonth {
			src.Start, src.End = pin.Month.Start(loc), pin.Month.End(loc)
		} else {
			src.Start = month.Add(-o.BaselineMonths).Start(loc)
		}
	}

	rep := runReport(baseSamples, curSamples, o)
	rep.Month, rep.Timezone, rep.Baseline = month.String(), loc.String(), src
	rep.UnitReason = fmt.Sprintf("%s holds %d recorded run(s): each run is one observation (a month of pressure tests has too few days with data for daily rank tests)", month, len(cur))
	// Trends: the month's runs merged; charts and change points: one
	// point per run, dated by its start.
	all := side(list)
	for i := range rep.Interfaces {
		ir := &rep.Interfaces[i]
		rs := sortedRuns(all[ir.Name])
		for _, m := range trendMonths {
			ms, me := m.Start(loc), m.End(loc)
			var in []runSample
			for _, r := range rs {
				if !r.Start.Before(ms) && r.Start.Before(me) {
					in = append(in, r)
				}
			}
			tp := TrendPoint{Month: m.String(), Metrics: map[string]Num{}}
			if len(in) > 0 {
				sd := mergeSide(in)
				tp.Requests = math.Round(sd.counts.Completed())
				for k, v := range sd.vals {
					if !math.IsNaN(v) {
						tp.Metrics[c.BaselineMetrics[k]] = Num(v)
					}
				}
			}
			ir.Trend = append(ir.Trend, tp)
		}
		for _, r := range rs {
			if r.Start.Before(trendStart) || !r.Start.Before(end) {
				continue
			}
			sd := mergeSide([]runSample{r})
			d := Day{Date: dayOf(r.Start, loc), Counts: sd.counts, Active: sd.active, Values: sd.vals}
			if n := len(ir.Daily); n > 0 && ir.Daily[n-1].Date.Equal(d.Date) {
				// Two runs on one day: the day's point is their merge.
				sd = mergeSide(runsOfDay(rs, d.Date, loc))
				d = Day{Date: d.Date, Counts: sd.counts, Active: sd.active, Values: sd.vals}
				ir.Daily[n-1] = d
				continue
			}
			ir.Daily = append(ir.Daily, d)
		}
	}
	findInterfaceChanges(rep.Interfaces, o)
	return rep, nil
}

func dayOf(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

func runsOfDay(rs []runSample, day time.Time, loc *time.Location) []runSample {
	var out []runSample
	for _, r := range rs {
		if dayOf(r.Start, loc).Equal(day) {
			out = append(out, r)
		}
	}
	return slices.Clip(out)
}
