package runrecord

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Decode reads records from the results of Query's expressions: range
// selectors, whose matrices hold the raw samples at their own timestamps.
// The samples of a run-shard are grouped by scenario, shard and timestamp
// and named by the info series at that timestamp; window samples belong to
// the run-shard whose steady phase (steady start, end] holds them.
//
// It returns every record it could read, by end, scenario and shard, and
// an error naming what it left out and why: a record that does not
// validate, or the windows of one that overlaps another run of its
// scenario and shard (their window samples cannot be told apart), or whose
// windows do not add up to its totals (some are outside the query's range,
// or were never written). Series of other names are ignored, and so are
// labels a record series does not have (external labels of a backend).
func Decode(results ...model.Matrix) ([]Record, error) {
	d := decoder{runs: map[runKey]*runAcc{}, windows: map[ifaceKey][]windowPoint{}}
	for _, mat := range results {
		for _, ss := range mat {
			if ss != nil {
				d.series(ss)
			}
		}
	}
	return d.finish()
}

type groupKey struct{ scenario, shard string }

type runKey struct {
	groupKey
	t int64
}

type ifaceKey struct {
	groupKey
	iface string
}

// runAcc gathers the samples of one run-shard.
type runAcc struct {
	key       runKey
	info      model.Metric
	start     map[string]float64 // c.MetricRecordStart, c.MetricRecordSteadyStart
	ifaces    map[string]map[string]float64
	conflicts []string
}

// set keeps one figure, noting a second, different value for it
// (duplicates with the same value are what replicated backends return).
func (r *runAcc) set(m map[string]float64, field string, v float64) {
	if old, ok := m[field]; ok && old != v && !(math.IsNaN(old) && math.IsNaN(v)) {
		r.conflicts = append(r.conflicts, field)
		return
	}
	m[field] = v
}

// windowPoint is one window sample: a request count when outcome is set,
// a latency quantile otherwise.
type windowPoint struct {
	t                 int64
	outcome, quantile string
	v                 float64
}

type decoder struct {
	runs     map[runKey]*runAcc
	windows  map[ifaceKey][]windowPoint
	orphans  int // totals at a timestamp without an info series
	badPoint int // samples without the labels their series must have
}

func (d *decoder) run(k runKey) *runAcc {
	r := d.runs[k]
	if r == nil {
		r = &runAcc{key: k, start: map[string]float64{}, ifaces: map[string]map[string]float64{}}
		d.runs[k] = r
	}
	return r
}

// fieldsPerInterface is the number of figures an interface's record has:
// its buckets, +Inf, three outcomes and three totals.
var fieldsPerInterface = len(c.DurationBuckets()) + 7

func (d *decoder) series(ss *model.SampleStream) {
	m := ss.Metric
	name := string(m[model.MetricNameLabel])
	if !slices.Contains(c.RecordMetrics, name) {
		return
	}
	g := groupKey{string(m[c.LabelScenario]), string(m[c.LabelShard])}
	iface := string(m[c.LabelInterface])
	var field string
	switch name {
	case c.MetricRecordInfo:
		for _, p := range ss.Values {
			r := d.run(runKey{g, int64(p.Timestamp)})
			if r.info != nil && !r.info.Equal(infoLabels(m)) {
				r.conflicts = append(r.conflicts, "info labels")
				continue
			}
			r.info = infoLabels(m)
		}
		return
	case c.MetricRecordStart, c.MetricRecordSteadyStart:
		for _, p := range ss.Values {
			r := d.run(runKey{g, int64(p.Timestamp)})
			r.set(r.start, name, float64(p.Value))
		}
		return
	case c.MetricRecordWindowRequests, c.MetricRecordWindowLatency:
		k := ifaceKey{g, iface}
		o, q := string(m[c.LabelOutcome]), string(m[c.LabelQuantile])
		if iface == "" || (name == c.MetricRecordWindowRequests) == (o == "") || (name == c.MetricRecordWindowLatency) == (q == "") {
			d.badPoint += len(ss.Values)
			return
		}
		if name == c.MetricRecordWindowRequests {
			q = ""
		}
		for _, p := range ss.Values {
			d.windows[k] = append(d.windows[k], windowPoint{int64(p.Timestamp), o, q, float64(p.Value)})
		}
		return
	case c.MetricRecordRequests:
		field = "requests\x00" + string(m[c.LabelOutcome])
	case c.MetricRecordDurationBucket:
		le, err := strconv.ParseFloat(string(m[c.LabelLe]), 64)
		if err != nil {
			d.badPoint += len(ss.Values)
			return
		}
		// Bounds written differently ("1" and "1.0") are one bucket.
		field = "le\x00" + c.FormatLe(le)
	default: // scheduled, dropped, active
		field = name
	}
	if iface == "" {
		d.badPoint += len(ss.Values)
		return
	}
	for _, p := range ss.Values {
		r := d.run(runKey{g, int64(p.Timestamp)})
		fs := r.ifaces[iface]
		if fs == nil {
			// the buckets, outcomes and three totals of one interface
			fs = make(map[string]float64, fieldsPerInterface)
			r.ifaces[iface] = fs
		}
		r.set(fs, field, float64(p.Value))
	}
}

// infoLabels keeps the labels of the info series that make up Meta.
func infoLabels(m model.Metric) model.Metric {
	out := model.Metric{}
	for _, n := range []string{c.LabelRunID, c.LabelMode, c.LabelStatus, c.LabelThresholds, c.LabelShards, c.LabelFailures, c.LabelGenerator} {
		if v, ok := m[model.LabelName(n)]; ok {
			out[model.LabelName(n)] = v
		}
	}
	return out
}

func (d *decoder) finish() ([]Record, error) {
	var errs errList
	byGroup := map[groupKey][]*decoded{}
	for _, r := range d.runs {
		if r.info == nil {
			d.orphans++
			continue
		}
		rec, err := r.record()
		if err != nil {
			errs.add(fmt.Errorf("record of scenario %q shard %q ending %s left out: %w", r.key.scenario, r.key.shard, fmtTime(time.UnixMilli(r.key.t)), err))
			continue
		}
		byGroup[r.key.groupKey] = append(byGroup[r.key.groupKey], &decoded{rec: rec, lo: rec.Meta.SteadyStart.UnixMilli(), hi: r.key.t})
	}
	if d.orphans > 0 {
		errs.add(fmt.Errorf("%d groups of record samples without an info series left out", d.orphans))
	}
	if d.badPoint > 0 {
		errs.add(fmt.Errorf("%d record samples without the labels of their series left out", d.badPoint))
	}
	var out []Record
	for g, runs := range byGroup {
		d.attachWindows(g, runs, &errs)
		for _, r := range runs {
			out = append(out, r.rec)
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(a.Meta.End.Compare(b.Meta.End), cmp.Compare(a.Meta.Scenario, b.Meta.Scenario), cmp.Compare(a.Meta.Shard, b.Meta.Shard))
	})
	return out, errs.err()
}

// decoded is a record and the range (lo, hi] of its window samples.
type decoded struct {
	rec     Record
	lo, hi  int64
	overlap bool
	points  map[string][]windowPoint
}

// record assembles the totals; windows come later, once every run of the
// group is known.
func (r *runAcc) record() (Record, error) {
	if len(r.conflicts) > 0 {
		slices.Sort(r.conflicts)
		return Record{}, fmt.Errorf("samples disagree on %q", slices.Compact(r.conflicts))
	}
	info := r.info
	m := Meta{
		RunID:              string(info[c.LabelRunID]),
		Scenario:           r.key.scenario,
		Shard:              r.key.shard,
		Mode:               string(info[c.LabelMode]),
		Status:             string(info[c.LabelStatus]),
		Thresholds:         string(info[c.LabelThresholds]),
		FailuresFile:       string(info[c.LabelFailures]),
		GeneratorSaturated: string(info[c.LabelGenerator]) == c.RecordGeneratorSaturated,
		End:                time.UnixMilli(r.key.t).UTC(),
	}
	var errs []error
	if n, err := strconv.Atoi(string(info[c.LabelShards])); err != nil {
		errs = append(errs, fmt.Errorf("shards %q is not a number", info[c.LabelShards]))
	} else {
		m.Shards = n
	}
	start, ok := r.start[c.MetricRecordStart]
	if !ok {
		errs = append(errs, errors.New("no start sample"))
	} else if m.Start, ok = secondsTime(start); !ok {
		errs = append(errs, fmt.Errorf("start %g is not a time", start))
	}
	m.SteadyStart = m.Start
	if v, ok := r.start[c.MetricRecordSteadyStart]; ok {
		if m.SteadyStart, ok = secondsTime(v); !ok {
			errs = append(errs, fmt.Errorf("steady start %g is not a time", v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Record{}, err
	}
	rec := Record{Meta: m}
	for _, name := range slices.Sorted(maps.Keys(r.ifaces)) {
		ir, err := interfaceFrom(name, r.ifaces[name])
		if err != nil {
			return Record{}, err
		}
		rec.Interfaces = append(rec.Interfaces, ir)
	}
	if err := rec.Validate(); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// secondsTime reads Unix seconds written by unixSeconds.
func secondsTime(v float64) (time.Time, bool) {
	ms := math.Round(v * 1000)
	// Years 1970 to 9999: beyond that time.Time would not round-trip.
	if !(ms > 0 && ms < 253402300800000) {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}

func interfaceFrom(name string, fs map[string]float64) (InterfaceRecord, error) {
	ir := InterfaceRecord{Name: name}
	for f, v := range fs {
		kind, arg, _ := cut0(f)
		switch kind {
		case "requests":
			p := ir.Requests.ptr(arg)
			if p == nil {
				return ir, fmt.Errorf("interface %q: unknown outcome %q", name, arg)
			}
			*p = v
		case "le":
			ub, _ := strconv.ParseFloat(arg, 64) // formatLe output parses
			ir.Buckets = append(ir.Buckets, Bucket{UpperBound: ub, Count: v})
		case c.MetricRecordScheduled:
			ir.Scheduled = v
		case c.MetricRecordDropped:
			ir.Dropped = v
		case c.MetricRecordActive:
			ir.ActiveSeconds = v
		}
	}
	slices.SortFunc(ir.Buckets, func(a, b Bucket) int { return cmp.Compare(a.UpperBound, b.UpperBound) })
	return ir, nil
}

func cut0(s string) (before, after string, found bool) {
	for i := range len(s) {
		if s[i] == 0 {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// attachWindows gives each run of one scenario and shard the window
// samples inside its steady phase, unless its phase overlaps another's.
func (d *decoder) attachWindows(g groupKey, runs []*decoded, errs *errList) {
	// Runs without a steady phase have no windows and overlap nothing.
	// Sorted by lo, a run overlaps another iff an earlier one ends after
	// its start or the next one starts before its end.
	var phased []*decoded
	for _, r := range runs {
		if r.lo < r.hi {
			phased = append(phased, r)
		}
	}
	slices.SortFunc(phased, func(a, b *decoded) int { return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi)) })
	maxHi := int64(math.MinInt64)
	for i, r := range phased {
		if maxHi > r.lo || (i+1 < len(phased) && phased[i+1].lo < r.hi) {
			r.overlap = true
		}
		maxHi = max(maxHi, r.hi)
	}
	var clean []*decoded // their ranges are disjoint
	for _, r := range phased {
		if !r.overlap {
			clean = append(clean, r)
		}
	}
	slices.SortFunc(clean, func(a, b *decoded) int { return cmp.Compare(a.hi, b.hi) })
	for _, iface := range slices.Sorted(func(yield func(string) bool) {
		for k := range d.windows {
			if k.groupKey == g && !yield(k.iface) {
				return
			}
		}
	}) {
		for _, p := range d.windows[ifaceKey{g, iface}] {
			i, _ := slices.BinarySearchFunc(clean, p.t, func(r *decoded, t int64) int { return cmp.Compare(r.hi, t) })
			if i < len(clean) && clean[i].lo < p.t {
				r := clean[i]
				if r.points == nil {
					r.points = map[string][]windowPoint{}
				}
				r.points[iface] = append(r.points[iface], p)
			}
		}
	}
	for _, r := range runs {
		if r.overlap {
			errs.add(fmt.Errorf("windows of run %q (scenario %q shard %q) left out: its steady phase overlaps another run of the same scenario and shard", r.rec.Meta.RunID, g.scenario, g.shard))
			continue
		}
		if len(r.points) == 0 {
			continue
		}
		withWindows := r.rec
		withWindows.Interfaces = slices.Clone(r.rec.Interfaces)
		err := r.windowsInto(&withWindows)
		if err == nil {
			err = withWindows.Validate()
		}
		if err != nil {
			errs.add(fmt.Errorf("windows of run %q (scenario %q shard %q) left out: %w", r.rec.Meta.RunID, g.scenario, g.shard, err))
			continue
		}
		r.rec = withWindows
	}
}

func (r *decoded) windowsInto(rec *Record) error {
	for i := range rec.Interfaces {
		ir := &rec.Interfaces[i]
		pts := r.points[ir.Name]
		if len(pts) == 0 {
			continue
		}
		type acc struct {
			n       Counts
			seen    map[string]bool
			latency map[string]float64
		}
		byT := map[int64]*acc{}
		get := func(t int64) *acc {
			a := byT[t]
			if a == nil {
				a = &acc{seen: map[string]bool{}, latency: map[string]float64{}}
				byT[t] = a
			}
			return a
		}
		for _, p := range pts {
			a := get(p.t)
			if p.outcome != "" {
				f := a.n.ptr(p.outcome)
				if f == nil {
					return fmt.Errorf("interface %q: unknown outcome %q", ir.Name, p.outcome)
				}
				if a.seen[p.outcome] && *f != p.v {
					return fmt.Errorf("interface %q: window at %s has two %s counts", ir.Name, fmtTime(time.UnixMilli(p.t)), p.outcome)
				}
				*f, a.seen[p.outcome] = p.v, true
			} else if slices.Contains(c.RecordWindowQuantiles, p.quantile) {
				a.latency[p.quantile] = p.v // later quantiles are ignored: forward compatible
			}
		}
		prev := rec.Meta.SteadyStart
		for _, t := range slices.Sorted(maps.Keys(byT)) {
			a := byT[t]
			if len(a.seen) == 0 {
				return fmt.Errorf("interface %q: latency at %s without request counts", ir.Name, fmtTime(time.UnixMilli(t)))
			}
			w := Window{Start: prev, End: time.UnixMilli(t).UTC(), Requests: a.n}
			if len(a.latency) == len(c.RecordWindowQuantiles) {
				w.Latency = make([]float64, len(c.RecordWindowQuantiles))
				for j, q := range c.RecordWindowQuantiles {
					w.Latency[j] = a.latency[q]
				}
			}
			ir.Windows = append(ir.Windows, w)
			prev = w.End
		}
	}
	return nil
}

// errList joins at most maxErrs errors, then counts the rest, so that a
// store full of bad samples gives a readable error.
type errList struct {
	errs []error
	more int
}

const maxErrs = 20

func (l *errList) add(err error) {
	if len(l.errs) < maxErrs {
		l.errs = append(l.errs, err)
		return
	}
	l.more++
}

func (l *errList) err() error {
	if l.more > 0 {
		l.errs = append(l.errs, fmt.Errorf("and %d more", l.more))
	}
	if len(l.errs) == 0 {
		return nil
	}
	return fmt.Errorf("runrecord: %w", errors.Join(l.errs...))
}
