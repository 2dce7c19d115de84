package analyzer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/internal/quantile"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Metric indexes into Day.Values, in the order of c.BaselineMetrics.
const (
	mP50 = iota
	mP90
	mP95
	mP99
	mBusiness
	mSystem
	mThroughput
	mDropped
	numMetrics
)

var quantiles = [...]struct {
	idx int
	q   float64
}{{mP50, 0.5}, {mP90, 0.9}, {mP95, 0.95}, {mP99, 0.99}}

func init() {
	if len(c.BaselineMetrics) != numMetrics || c.BaselineMetrics[mP99] != c.BaselineLatencyP99 ||
		c.BaselineMetrics[mThroughput] != c.BaselineThroughput || c.BaselineMetrics[mDropped] != c.BaselineDroppedRatio {
		panic("analyzer: metric indexes out of step with conventions.BaselineMetrics")
	}
}

func metricIndex(key string) int { return slices.Index(c.BaselineMetrics, key) }

// Day is one interface's figures for one calendar day.
type Day struct {
	// Date is the day's first instant in the report's time zone.
	Date   time.Time
	Counts Counts
	// Active is the number of seconds with traffic, Peak the highest
	// per-Resolution throughput in requests per second.
	Active, Peak float64
	// Values holds the day's metrics in c.BaselineMetrics order; NaN when
	// the day had no data for it.
	Values [numMetrics]float64
}

// Value returns the day's value of a c.Baseline* metric, NaN when absent.
func (d *Day) Value(key string) float64 {
	if i := metricIndex(key); i >= 0 {
		return d.Values[i]
	}
	return math.NaN()
}

// fetcher queries one backend with the selector of one report.
type fetcher struct {
	q   Querier
	sel string // {phase!="warmup",run_id="..."}
	res time.Duration
	loc *time.Location
	// parallel bounds the queries in flight.
	parallel int
	// batch is how many interfaces one query covers at most (0: all).
	batch int
}

// newFetcher builds the label selector. Steady-phase requests are those not
// labelled warm-up, so data imported without a phase label counts too.
func newFetcher(q Querier, o Options) *fetcher {
	m := []string{c.SteadyMatcher}
	if o.RunID != "" {
		m = append(m, fmt.Sprintf(`%s=%q`, c.LabelRunID, o.RunID))
	}
	return &fetcher{q: q, sel: "{" + strings.Join(m, ",") + "}", res: o.Resolution, loc: o.Location, parallel: o.Parallel, batch: o.Batch}
}

// batches splits the interfaces with data in [start, end) into groups of
// at most f.batch and returns one fetcher per group, whose selector is
// restricted to it. Each interface has hundreds of histogram series per
// run, so a query over every interface of a busy store holds millions of
// series at once; groups bound that memory, at the cost of more queries.
func (f *fetcher) batches(ctx context.Context, start, end time.Time) ([]*fetcher, error) {
	if f.batch <= 0 {
		return []*fetcher{f}, nil
	}
	// The request counters have a few series per interface and run, the
	// histogram hundreds: listing the interfaces from them is cheap.
	expr := fmt.Sprintf(`count by (%s) (count_over_time(%s%s[%s]))`, c.LabelInterface, c.MetricRequestsTotal, f.sel, promDuration(end.Sub(start)))
	val, err := f.q.Query(ctx, expr, end)
	if err != nil {
		return nil, fmt.Errorf("could not list interfaces (%s): %w", expr, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("analyzer: query %s returned %s, want a vector", expr, val.Type())
	}
	var names []string
	for _, s := range vec {
		if n := string(s.Metric[c.LabelInterface]); n != "" {
			names = append(names, regexp.QuoteMeta(n))
		}
	}
	if len(names) <= f.batch {
		return []*fetcher{f}, nil
	}
	slices.Sort(names)
	var out []*fetcher
	for chunk := range slices.Chunk(names, f.batch) {
		sub := *f
		sub.sel = strings.TrimSuffix(f.sel, "}") + fmt.Sprintf(`,%s=~"%s"}`, c.LabelInterface, strings.Join(chunk, "|"))
		out = append(out, &sub)
	}
	return out, nil
}

func promDuration(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) + "s" }

// Expressions, each aggregated by interface on the server.
func (f *fetcher) exprCounts(w string) string {
	return fmt.Sprintf(`sum by (%s, %s) (increase(%s%s[%s]))`, c.LabelInterface, c.LabelOutcome, c.MetricRequestsTotal, f.sel, w)
}
func (f *fetcher) exprCounter(metric, w string) string {
	return fmt.Sprintf(`sum by (%s) (increase(%s%s[%s]))`, c.LabelInterface, metric, f.sel, w)
}
func (f *fetcher) exprBuckets(w string) string {
	return fmt.Sprintf(`sum by (%s, %s) (increase(%s_bucket%s[%s]))`, c.LabelInterface, c.LabelLe, c.MetricRequestDuration, f.sel, w)
}
func (f *fetcher) exprActive(w time.Duration) string {
	r := promDuration(f.res)
	return fmt.Sprintf(`count_over_time((sum by (%s) (increase(%s%s[%s])) > 0)[%s:%s]) * %d`,
		c.LabelInterface, c.MetricRequestsTotal, f.sel, r, promDuration(w-time.Second), r, int64(f.res/time.Second))
}
func (f *fetcher) exprPeak(w string) string {
	r := promDuration(f.res)
	return fmt.Sprintf(`max_over_time(sum by (%s) (rate(%s%s[%s]))[%s:%s])`,
		c.LabelInterface, c.MetricRequestsTotal, f.sel, r, w, r)
}

// maxPoints is the most points per series one range query may ask for
// (Prometheus refuses more than 11,000).
const maxPoints = 11000

// days returns the daily series of every interface over [from, to), two
// month-aligned bounds, one range query per metric, month and batch of
// interfaces.
func (f *fetcher) days(ctx context.Context, from, to Month) (map[string][]Day, error) {
	out := map[string][]Day{}
	groups, err := f.batches(ctx, from.Start(f.loc), to.End(f.loc))
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for m := from; !to.Before(m); m = m.Add(1) {
			if err := g.monthDays(ctx, m, out); err != nil {
				return nil, err
			}
		}
	}
	for name, ds := range out {
		slices.SortFunc(ds, func(a, b Day) int { return a.Date.Compare(b.Date) })
		out[name] = ds
	}
	return out, nil
}

func (f *fetcher) monthDays(ctx context.Context, m Month, out map[string][]Day) error {
	start, end := m.Start(f.loc), m.End(f.loc)
	// Each point is evaluated at the end of its day over the day before.
	// Steps are fixed at 24h: on a daylight-saving change a day is off by
	// the shift, at most an hour, and the month split resets it.
	const step = 24 * time.Hour
	nDays := int(math.Round(end.Sub(start).Hours() / 24))
	if nDays > maxPoints {
		return fmt.Errorf("analyzer: %d daily points exceed %d per query", nDays, maxPoints)
	}
	first, last := start.Add(step), start.Add(time.Duration(nDays)*step)
	w := promDuration(step)
	index := map[string]map[int64]*Day{}
	get := func(iface string, ts time.Time) *Day {
		byTS := index[iface]
		if byTS == nil {
			byTS = map[int64]*Day{}
			index[iface] = byTS
		}
		d := byTS[ts.Unix()]
		if d == nil {
			d = &Day{Date: ts.Add(-step).In(f.loc)}
			for i := range d.Values {
				d.Values[i] = math.NaN()
			}
			byTS[ts.Unix()] = d
		}
		return d
	}
	buckets := map[*Day]bucketSet{}
	jobs := countJobs(f, w,
		func(d *Day) *Counts { return &d.Counts },
		func(d *Day) bucketSet {
			if buckets[d] == nil {
				buckets[d] = bucketSet{}
			}
			return buckets[d]
		})
	jobs = append(jobs,
		job[*Day]{f.exprActive(step), func(d *Day, _ model.Metric, v float64) { d.Active = v }},
		job[*Day]{f.exprPeak(w), func(d *Day, _ model.Metric, v float64) { d.Peak = v }},
	)
	err := runJobs(ctx, f, jobs, func(ctx context.Context, e string) (model.Value, error) {
		return f.q.QueryRange(ctx, e, first, last, step)
	}, get)
	if err != nil {
		return fmt.Errorf("could not query daily series for %s: %w", m, err)
	}
	for iface, byTS := range index {
		for _, d := range byTS {
			buckets[d].quantiles(&d.Values)
			d.finish()
			if d.Counts.Completed() > 0 {
				out[iface] = append(out[iface], *d)
			}
		}
	}
	return nil
}

// job is one query and what each of its samples sets on a T (a day, or a
// period's accumulator).
type job[T any] struct {
	expr string
	set  func(t T, l model.Metric, v float64)
}

// countJobs are the queries daily series and period aggregates share over
// window w: requests by outcome, scheduled, dropped, and the buckets
// summed by le (one query serves every quantile: the buckets are by far
// the most series, read once instead of once per quantile).
func countJobs[T any](f *fetcher, w string, counts func(T) *Counts, buckets func(T) bucketSet) []job[T] {
	return []job[T]{
		{f.exprCounts(w), func(t T, l model.Metric, v float64) { addOutcome(counts(t), string(l[c.LabelOutcome]), v) }},
		{f.exprCounter(c.MetricRequestsScheduled, w), func(t T, _ model.Metric, v float64) { counts(t).Scheduled = v }},
		{f.exprCounter(c.MetricRequestsDropped, w), func(t T, _ model.Metric, v float64) { counts(t).Dropped = v }},
		{f.exprBuckets(w), func(t T, l model.Metric, v float64) { buckets(t).add(l[c.LabelLe], v) }},
	}
}

// runJobs evaluates the jobs' queries (range queries give matrices,
// instant ones vectors) and hands each finite sample of an interface to
// its job, on the T that get returns for the interface and sample time.
func runJobs[T any](ctx context.Context, f *fetcher, jobs []job[T], eval func(context.Context, string) (model.Value, error), get func(iface string, ts time.Time) T) error {
	exprs := make([]string, len(jobs))
	for i, j := range jobs {
		exprs[i] = j.expr
	}
	vals, err := f.all(ctx, exprs, eval)
	if err != nil {
		return err
	}
	set := func(j job[T], m model.Metric, ts model.Time, v float64) {
		iface := string(m[c.LabelInterface])
		if iface == "" || math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		j.set(get(iface, ts.Time()), m, v)
	}
	for i, j := range jobs {
		switch val := vals[i].(type) {
		case model.Matrix:
			for _, s := range val {
				for _, p := range s.Values {
					set(j, s.Metric, p.Timestamp, float64(p.Value))
				}
			}
		case model.Vector:
			for _, s := range val {
				set(j, s.Metric, s.Timestamp, float64(s.Value))
			}
		default:
			return fmt.Errorf("analyzer: query %s returned %s, want a vector or matrix", j.expr, vals[i].Type())
		}
	}
	return nil
}

// all runs the queries, at most f.parallel at once; the first error
// cancels the rest.
func (f *fetcher) all(ctx context.Context, exprs []string, run func(context.Context, string) (model.Value, error)) ([]model.Value, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	vals := make([]model.Value, len(exprs))
	errs := make([]error, len(exprs))
	sem := make(chan struct{}, max(1, f.parallel))
	var wg sync.WaitGroup
	for i, e := range exprs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			if vals[i], errs[i] = run(ctx, e); errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", e, errs[i])
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		// report the query that failed, not those it cancelled
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return vals, nil
}

func addOutcome(cs *Counts, outcome string, v float64) {
	switch outcome {
	case c.OutcomeSuccess:
		cs.Success += v
	case c.OutcomeBusinessFailure:
		cs.BusinessFailure += v
	case c.OutcomeSystemFailure:
		cs.SystemFailure += v
	}
}

// finish derives the ratios and throughput from the counts.
func (d *Day) finish() {
	ratios(&d.Values, d.Counts)
	if d.Active > 0 {
		d.Values[mThroughput] = d.Counts.Completed() / d.Active
	}
}

func ratios(v *[numMetrics]float64, cs Counts) {
	if n := cs.Completed(); n > 0 {
		v[mSystem] = cs.SystemOK() / n
	}
	if n := cs.SystemOK(); n > 0 {
		v[mBusiness] = cs.Success / n
	}
	if cs.Scheduled > 0 {
		v[mDropped] = cs.Dropped / cs.Scheduled
	}
}

// period returns per-interface aggregates over [start, end): counts and
// quantiles come from one instant query each over the whole window at its
// end (buckets summed over the period, never averaged quantiles); active
// time and peak throughput from the days, which must cover the window.
func (f *fetcher) period(ctx context.Context, start, end time.Time, days map[string][]Day) (map[string]*BaselineInterface, error) {
	groups, err := f.batches(ctx, start, end)
	if err != nil {
		return nil, err
	}
	if len(groups) == 1 {
		return groups[0].periodOnce(ctx, start, end, days)
	}
	out := map[string]*BaselineInterface{}
	for _, g := range groups {
		part, err := g.periodOnce(ctx, start, end, days)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, part)
	}
	return out, nil
}

func (f *fetcher) periodOnce(ctx context.Context, start, end time.Time, days map[string][]Day) (map[string]*BaselineInterface, error) {
	w := promDuration(end.Sub(start))
	out := map[string]*BaselineInterface{}
	type acc struct {
		counts  Counts
		vals    [numMetrics]float64
		buckets bucketSet
	}
	accs := map[string]*acc{}
	get := func(iface string) *acc {
		a := accs[iface]
		if a == nil {
			a = &acc{buckets: bucketSet{}}
			for i := range a.vals {
				a.vals[i] = math.NaN()
			}
			accs[iface] = a
		}
		return a
	}
	jobs := countJobs(f, w,
		func(a *acc) *Counts { return &a.counts },
		func(a *acc) bucketSet { return a.buckets })
	err := runJobs(ctx, f, jobs, func(ctx context.Context, e string) (model.Value, error) {
		return f.q.Query(ctx, e, end)
	}, func(iface string, _ time.Time) *acc { return get(iface) })
	if err != nil {
		return nil, fmt.Errorf("could not query %s..%s: %w", start.Format(time.DateOnly), end.Format(time.DateOnly), err)
	}
	for iface, a := range accs {
		if a.counts.Completed() <= 0 {
			continue
		}
		a.buckets.quantiles(&a.vals)
		ratios(&a.vals, a.counts)
		var active, peak float64
		var daily [numMetrics][]float64
		for _, d := range days[iface] {
			if d.Date.Before(start) || !d.Date.Before(end) {
				continue
			}
			active += d.Active
			peak = math.Max(peak, d.Peak)
			for i, v := range d.Values {
				if !math.IsNaN(v) {
					daily[i] = append(daily[i], v)
				}
			}
		}
		if active > 0 {
			a.vals[mThroughput] = a.counts.Completed() / active
		}
		bi := &BaselineInterface{
			Name: iface, Requests: math.Round(a.counts.Completed()),
			Metrics: map[string]float64{}, Daily: map[string][]float64{},
			Counts: &Counts{}, Buckets: a.buckets.finiteBounds(),
		}
		*bi.Counts = a.counts
		for i, v := range a.vals {
			if !math.IsNaN(v) {
				bi.Metrics[c.BaselineMetrics[i]] = v
			}
			if len(daily[i]) > 0 {
				bi.Daily[c.BaselineMetrics[i]] = daily[i]
			}
		}
		bi.PeakRPS = peak
		out[iface] = bi
	}
	return out, nil
}

func metricName(i int) string { return c.BaselineMetrics[i] }

// bucketSet holds one interface's bucket counts summed over a period, by
// upper bound; bounds written differently by different sources ("1" and
// "1.0") merge.
type bucketSet map[float64]float64

func (b bucketSet) add(le model.LabelValue, v float64) {
	if ub, err := strconv.ParseFloat(string(le), 64); err == nil {
		b[ub] += v
	}
}

// finiteBounds returns the finite upper bounds, ascending.
func (b bucketSet) finiteBounds() []float64 {
	var out []float64
	for ub := range b {
		if !math.IsInf(ub, 1) {
			out = append(out, ub)
		}
	}
	slices.Sort(out)
	return out
}

// quantiles sets the latency quantiles in vals from the buckets, with the
// interpolation histogram_quantile uses (internal/quantile), so the
// figures are those the server would compute; absent ones stay NaN.
func (b bucketSet) quantiles(vals *[numMetrics]float64) {
	if len(b) < 2 {
		return
	}
	bs := make([]quantile.Bucket, 0, len(b))
	for ub, n := range b {
		bs = append(bs, quantile.Bucket{UpperBound: ub, Count: n})
	}
	for _, q := range quantiles {
		if v := quantile.Of(q.q, bs); !math.IsNaN(v) && !math.IsInf(v, 0) {
			vals[q.idx] = v
		}
	}
}
