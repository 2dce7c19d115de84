package runrecord

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Snapshot is the cumulative steady-phase state of a run-shard at one
// instant: everything counted since the steady phase started, warm-up
// excluded. Every producer (the live registry, raw samples of an old run,
// an import, the synthetic history) turns its data into this one shape.
type Snapshot struct {
	Time time.Time
	// Interfaces maps interface names to their state. An interface absent
	// from a snapshot keeps the state it had in the previous one.
	Interfaces map[string]InterfaceSnapshot
}

// InterfaceSnapshot is one interface's cumulative steady-phase state.
type InterfaceSnapshot struct {
	Requests           Counts
	Scheduled, Dropped float64
	// Buckets is the latency histogram of completed requests, all
	// outcomes together: cumulative, by ascending bound, ending with +Inf.
	// Nil when the source has none yet.
	Buckets []Bucket
}

// Options shape the windows of a Builder.
type Options struct {
	// Window is the shortest window. Longer runs get longer windows, whole
	// multiples of it, so that a record holds at most MaxWindows.
	Window time.Duration
	// MaxWindows bounds the windows of one record.
	MaxWindows int
	// Planned is the steady phase's expected length, 0 when unknown. When
	// known, the window length is settled up front and the builder keeps
	// only the snapshots that end windows.
	Planned time.Duration
}

// DefaultOptions returns one-minute windows, at most 60 of them.
func DefaultOptions() Options {
	return Options{Window: time.Minute, MaxWindows: 60}
}

func (o Options) validate() error {
	var errs []error
	if o.Window < time.Second {
		errs = append(errs, fmt.Errorf("runrecord: window %s is shorter than a second", o.Window))
	}
	if o.MaxWindows < 1 {
		errs = append(errs, fmt.Errorf("runrecord: max windows %d must be at least 1", o.MaxWindows))
	}
	if o.Planned < 0 {
		errs = append(errs, fmt.Errorf("runrecord: planned duration %s is negative", o.Planned))
	}
	return errors.Join(errs...)
}

// WindowLength is the window length of a steady phase lasting d: Window,
// or for phases longer than MaxWindows windows, d/MaxWindows rounded up to
// a whole Window.
func (o Options) WindowLength(d time.Duration) time.Duration {
	per := int64(o.Window) * int64(o.MaxWindows)
	n := (int64(d) + per - 1) / per
	return time.Duration(max(n, 1)) * o.Window
}

// Builder turns the snapshots of one run-shard into its Record. Feed it
// snapshots in time order, at least one at each window boundary (Next
// says when the next is due; snapshots in between only update the state),
// the last one at the end of the run, then call Build.
//
// Memory stays bounded whatever the run's length: the builder keeps only
// the snapshots that may end a window, and when it holds more than twice
// MaxWindows of them it keeps every other one. Windows then follow the
// rule of WindowLength exactly when Options.Planned is given (producers
// know it: the scenario's stages, an old run's or an import's span) or the
// steady phase lasts at most 2*MaxWindows windows; beyond that, without a
// plan, they are the next multiple of the kept spacing, still at most
// MaxWindows of them.
type Builder struct {
	o     Options
	start time.Time
	// step is the spacing of the kept boundaries: Window, or the planned
	// window length, doubled each time too many are kept.
	step   time.Duration
	bounds []boundary
	// now and state are the latest snapshot merged over earlier ones.
	now   time.Time
	state map[string]InterfaceSnapshot
}

// boundary is the state at a window boundary; idx is its place on the
// grid start + idx*step.
type boundary struct {
	idx   int64
	t     time.Time
	state map[string]InterfaceSnapshot
}

// NewBuilder starts the record of a run-shard whose steady phase starts at
// start: the first window starts there and counts are zero there.
func NewBuilder(start time.Time, o Options) (*Builder, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if start.IsZero() {
		return nil, errors.New("runrecord: the steady phase's start must be set")
	}
	start = msTime(start)
	step := o.Window
	if o.Planned > 0 {
		step = o.WindowLength(o.Planned)
	}
	return &Builder{o: o, start: start, step: step, now: start, state: map[string]InterfaceSnapshot{}}, nil
}

// Next is when the next window boundary is due: the earliest time of a
// snapshot that can end a window.
func (b *Builder) Next() time.Time {
	next := int64(1)
	if n := len(b.bounds); n > 0 {
		next = b.bounds[n-1].idx + 1
	}
	return b.start.Add(time.Duration(next) * b.step)
}

// Add merges a snapshot into the state. It refuses snapshots older than
// the previous one or before the start, and counts that went down (a
// counter reset would make the windows wrong), naming the interface and
// the figure.
func (b *Builder) Add(s Snapshot) error {
	t := msTime(s.Time)
	if t.Before(b.now) {
		return fmt.Errorf("runrecord: snapshot at %s is older than the previous one at %s", fmtTime(t), fmtTime(b.now))
	}
	state := maps.Clone(b.state)
	for _, name := range slices.Sorted(maps.Keys(s.Interfaces)) {
		is := s.Interfaces[name]
		if err := checkSnapshot(is, state[name]); err != nil {
			return fmt.Errorf("runrecord: snapshot at %s, interface %q: %w", fmtTime(t), name, err)
		}
		is.Buckets = slices.Clone(is.Buckets)
		state[name] = is
	}
	b.now, b.state = t, state
	if !t.Before(b.Next()) {
		b.bounds = append(b.bounds, boundary{idx: int64(t.Sub(b.start) / b.step), t: t, state: state})
		if len(b.bounds) > 2*b.o.MaxWindows {
			b.thin()
		}
	}
	return nil
}

// thin doubles the boundary spacing, keeping every other boundary.
func (b *Builder) thin() {
	b.step *= 2
	kept := b.bounds[:0]
	for _, bd := range b.bounds {
		if bd.idx%2 == 0 {
			bd.idx /= 2
			kept = append(kept, bd)
		}
	}
	clear(b.bounds[len(kept):])
	b.bounds = kept
}

// checkSnapshot accepts a well-formed state that no count of which went
// below the previous state's.
func checkSnapshot(is, prev InterfaceSnapshot) error {
	for _, f := range []struct {
		name      string
		v, before float64
	}{
		{c.OutcomeSuccess, is.Requests.Success, prev.Requests.Success},
		{c.OutcomeBusinessFailure, is.Requests.BusinessFailure, prev.Requests.BusinessFailure},
		{c.OutcomeSystemFailure, is.Requests.SystemFailure, prev.Requests.SystemFailure},
		{"scheduled", is.Scheduled, prev.Scheduled},
		{"dropped", is.Dropped, prev.Dropped},
	} {
		if !countOK(f.v) {
			return fmt.Errorf("%s is %g, want a finite count >= 0", f.name, f.v)
		}
		if f.v < f.before {
			return fmt.Errorf("%s went down from %g to %g (counter reset?)", f.name, f.before, f.v)
		}
	}
	if err := checkBuckets(is.Buckets); err != nil {
		return err
	}
	if len(prev.Buckets) == 0 {
		return nil
	}
	if len(is.Buckets) == 0 {
		return errors.New("buckets disappeared")
	}
	if len(is.Buckets) != len(prev.Buckets) {
		return fmt.Errorf("%d buckets, the previous snapshot had %d", len(is.Buckets), len(prev.Buckets))
	}
	for i, bk := range is.Buckets {
		p := prev.Buckets[i]
		if bk.UpperBound != p.UpperBound {
			return fmt.Errorf("bucket bound %g where the previous snapshot had %g", bk.UpperBound, p.UpperBound)
		}
		if bk.Count < p.Count {
			return fmt.Errorf("bucket le=%g went down from %g to %g (counter reset?)", bk.UpperBound, p.Count, bk.Count)
		}
	}
	return nil
}

// Build returns the record of the snapshots added so far; the latest one
// is the run's end state. m.SteadyStart is the builder's start and may be
// left zero, m.Start zero means the same, m.End zero means the time of the
// latest snapshot. active gives the seconds each interface had load when
// the producer knows them (the loader does); for the others they are the
// summed length of the windows with scheduled or completed requests.
func (b *Builder) Build(m Meta, active map[string]float64) (Record, error) {
	m.Start, m.SteadyStart, m.End = msTime(m.Start), msTime(m.SteadyStart), msTime(m.End)
	switch {
	case m.SteadyStart.IsZero():
		m.SteadyStart = b.start
	case !m.SteadyStart.Equal(b.start):
		return Record{}, fmt.Errorf("runrecord: meta's steady start %s is not the builder's %s", fmtTime(m.SteadyStart), fmtTime(b.start))
	}
	if m.Start.IsZero() {
		m.Start = b.start
	}
	if m.End.IsZero() {
		m.End = b.now
	}
	if m.End.Before(b.now) {
		return Record{}, fmt.Errorf("runrecord: run ends at %s, before its latest snapshot at %s", fmtTime(m.End), fmtTime(b.now))
	}
	ends := b.windowEnds()
	rec := Record{Meta: m}
	for _, name := range slices.Sorted(maps.Keys(b.state)) {
		rec.Interfaces = append(rec.Interfaces, b.buildInterface(name, ends, active))
	}
	if err := rec.Validate(); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// windowEnds picks the boundaries that end windows: those on the grid of
// the final window length, then the latest snapshot, a trailing window
// shorter than half a window merged into the one before.
func (b *Builder) windowEnds() []boundary {
	if !b.now.After(b.start) {
		return nil
	}
	length := b.o.WindowLength(b.now.Sub(b.start))
	every := max(int64(math.Ceil(float64(length)/float64(b.step))), 1)
	length = time.Duration(every) * b.step
	var ends []boundary
	for _, bd := range b.bounds {
		if bd.idx%every == 0 && bd.t.Before(b.now) {
			ends = append(ends, bd)
		}
	}
	if n := len(ends); n > 0 && b.now.Sub(ends[n-1].t) < length/2 {
		ends = ends[:n-1]
	}
	return append(ends, boundary{t: b.now, state: b.state})
}

func (b *Builder) buildInterface(name string, ends []boundary, active map[string]float64) InterfaceRecord {
	final := b.state[name]
	ir := InterfaceRecord{
		Name:      name,
		Requests:  final.Requests,
		Scheduled: final.Scheduled,
		Dropped:   final.Dropped,
		Buckets:   slices.Clone(final.Buckets),
	}
	if len(ir.Buckets) == 0 {
		ir.Buckets = zeroBuckets()
	}
	var prev InterfaceSnapshot
	prevT := b.start
	var busy time.Duration
	for _, e := range ends {
		cur := e.state[name]
		w := Window{Start: prevT, End: e.t, Requests: cur.Requests.sub(prev.Requests)}
		if w.Requests.Completed() > 0 {
			w.Latency = windowLatency(bucketDelta(cur.Buckets, prev.Buckets))
		}
		if w.Requests.Completed() > 0 || cur.Scheduled > prev.Scheduled {
			busy += w.End.Sub(w.Start)
		}
		ir.Windows = append(ir.Windows, w)
		prev, prevT = cur, e.t
	}
	if a, ok := active[name]; ok {
		ir.ActiveSeconds = a
	} else {
		ir.ActiveSeconds = busy.Seconds()
	}
	return ir
}

// bucketDelta returns cur - prev by bucket; prev may be nil (zero).
// Add has checked that both have the same bounds.
func bucketDelta(cur, prev []Bucket) []Bucket {
	out := slices.Clone(cur)
	if len(prev) == len(cur) {
		for i := range out {
			out[i].Count -= prev[i].Count
		}
	}
	return out
}

// zeroBuckets is the conventions layout with no request in it: records
// always carry every bound so that they merge by summing per le.
func zeroBuckets() []Bucket {
	bounds := c.DurationBuckets()
	bs := make([]Bucket, 0, len(bounds)+1)
	for _, ub := range bounds {
		bs = append(bs, Bucket{UpperBound: ub})
	}
	return append(bs, Bucket{UpperBound: math.Inf(1)})
}
