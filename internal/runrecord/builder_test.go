package runrecord

import (
	"math"
	"strings"
	"testing"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

func TestWindowLength(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	for _, tc := range []struct {
		d, want time.Duration
	}{
		{0, time.Minute},
		{30 * time.Second, time.Minute},
		{60 * time.Minute, time.Minute},
		{60*time.Minute + time.Millisecond, 2 * time.Minute},
		{150 * time.Minute, 3 * time.Minute},
		{24 * time.Hour, 24 * time.Minute},
	} {
		if got := o.WindowLength(tc.d); got != tc.want {
			t.Errorf("WindowLength(%s) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

// feedStep says what one interface does in one minute of a synthetic run.
type feedStep struct {
	iface     string
	success   float64
	latency   float64
	dropped   float64
	business  float64
	systemErr float64
}

func TestBuilderWindows(t *testing.T) {
	t.Parallel()
	steady := func(name string, n float64) feedStep { return feedStep{iface: name, success: n, latency: 0.02} }
	tests := []struct {
		name string
		opts func(*Options)
		// each is the time of a snapshot (from the steady start) and what
		// happened since the previous one.
		feed []struct {
			at    time.Duration
			steps []feedStep
		}
		active map[string]float64
		// wantEnds are the window ends, from the steady start.
		wantEnds []time.Duration
		// wantCounts are the success counts per window of "a".
		wantCounts []float64
		wantActive map[string]float64
	}{
		{
			name:     "one window, run shorter than a minute",
			feed:     feedAt([]time.Duration{50 * time.Second}, steady("a", 10)),
			wantEnds: []time.Duration{50 * time.Second}, wantCounts: []float64{10},
			wantActive: map[string]float64{"a": 50},
		},
		{
			name:     "whole minutes",
			feed:     feedAt(minuteTimes(3), steady("a", 10)),
			wantEnds: minuteTimes(3), wantCounts: []float64{10, 10, 10},
			wantActive: map[string]float64{"a": 180},
		},
		{
			name:     "tail shorter than half a window joins the previous one",
			feed:     feedAt(append(minuteTimes(3), 3*time.Minute+20*time.Second), steady("a", 10)),
			wantEnds: []time.Duration{time.Minute, 2 * time.Minute, 3*time.Minute + 20*time.Second}, wantCounts: []float64{10, 10, 20},
			wantActive: map[string]float64{"a": 200},
		},
		{
			name:     "tail of half a window or more stays",
			feed:     feedAt(append(minuteTimes(3), 3*time.Minute+30*time.Second), steady("a", 10)),
			wantEnds: append(minuteTimes(3), 3*time.Minute+30*time.Second), wantCounts: []float64{10, 10, 10, 10},
			wantActive: map[string]float64{"a": 210},
		},
		{
			name:     "snapshots between boundaries only update the state",
			feed:     feedAt([]time.Duration{20 * time.Second, 40 * time.Second, time.Minute, 80 * time.Second, 2 * time.Minute}, steady("a", 1)),
			wantEnds: minuteTimes(2), wantCounts: []float64{3, 2},
			wantActive: map[string]float64{"a": 120},
		},
		{
			name:     "late snapshots end their windows where they were taken",
			feed:     feedAt([]time.Duration{65 * time.Second, 2*time.Minute + 3*time.Second, 3 * time.Minute}, steady("a", 5)),
			wantEnds: []time.Duration{65 * time.Second, 2*time.Minute + 3*time.Second, 3 * time.Minute}, wantCounts: []float64{5, 5, 5},
			wantActive: map[string]float64{"a": 180},
		},
		{
			name: "an interface without traffic in a window",
			feed: []struct {
				at    time.Duration
				steps []feedStep
			}{
				{time.Minute, []feedStep{steady("a", 4), steady("b", 7)}},
				{2 * time.Minute, []feedStep{steady("b", 7)}},
				{3 * time.Minute, []feedStep{steady("a", 4), steady("b", 7)}},
			},
			wantEnds: minuteTimes(3), wantCounts: []float64{4, 0, 4},
			wantActive: map[string]float64{"a": 120, "b": 180},
		},
		{
			name: "dropped requests alone make a window active",
			feed: []struct {
				at    time.Duration
				steps []feedStep
			}{
				{time.Minute, []feedStep{steady("a", 4)}},
				{2 * time.Minute, []feedStep{{iface: "a", dropped: 3}}},
			},
			wantEnds: minuteTimes(2), wantCounts: []float64{4, 0},
			wantActive: map[string]float64{"a": 120},
		},
		{
			name:     "active seconds from the producer win",
			feed:     feedAt(minuteTimes(2), steady("a", 1)),
			active:   map[string]float64{"a": 97.5},
			wantEnds: minuteTimes(2), wantCounts: []float64{1, 1},
			wantActive: map[string]float64{"a": 97.5},
		},
		{
			name:     "more than 60 minutes: 2-minute windows",
			feed:     feedAt(minuteTimes(61), steady("a", 1)),
			wantEnds: append(everyN(2, 60), 61*time.Minute), wantCounts: append(repeat(2, 30), 1),
			wantActive: map[string]float64{"a": 61 * 60},
		},
		{
			name:     "120 minutes: 60 windows of 2 minutes",
			feed:     feedAt(minuteTimes(120), steady("a", 1)),
			wantEnds: everyN(2, 120), wantCounts: repeat(2, 60),
			wantActive: map[string]float64{"a": 120 * 60},
		},
		{
			name:     "150 minutes, planned: 50 windows of 3 minutes, only their snapshots kept",
			opts:     func(o *Options) { o.Planned = 150 * time.Minute },
			feed:     feedAt(minuteTimes(150), steady("a", 1)),
			wantEnds: everyN(3, 150), wantCounts: repeat(3, 50),
			wantActive: map[string]float64{"a": 150 * 60},
		},
		{
			name: "planned length, run stopped early: fewer windows of the planned length",
			opts: func(o *Options) { o.Planned = 150 * time.Minute },
			feed: feedAt(minuteTimes(10), steady("a", 1)),
			// 10 minutes in 3-minute windows: 3, 6, 9, and a 1-minute tail merged.
			wantEnds: []time.Duration{3 * time.Minute, 6 * time.Minute, 10 * time.Minute}, wantCounts: []float64{3, 3, 4},
			wantActive: map[string]float64{"a": 600},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := DefaultOptions()
			if tc.opts != nil {
				tc.opts(&o)
			}
			b, err := NewBuilder(t0, o)
			if err != nil {
				t.Fatal(err)
			}
			s := state{}
			want := map[string]Counts{}
			for _, f := range tc.feed {
				for _, st := range f.steps {
					s.observe(st.iface, c.OutcomeSuccess, st.latency, st.success)
					s.observe(st.iface, c.OutcomeBusinessFailure, 0.2, st.business)
					s.observe(st.iface, c.OutcomeSystemFailure, 30, st.systemErr)
					s.drop(st.iface, st.dropped)
					w := want[st.iface]
					w.Success += st.success
					want[st.iface] = w
				}
				if err := b.Add(s.snap(t0.Add(f.at))); err != nil {
					t.Fatal(err)
				}
			}
			rec, err := b.Build(testMeta("r1", "shop", "1/1"), tc.active)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Interfaces) != len(want) {
				t.Fatalf("%d interfaces, want %d", len(rec.Interfaces), len(want))
			}
			for _, ir := range rec.Interfaces {
				if ir.Requests.Success != want[ir.Name].Success {
					t.Errorf("%s: %g successes, want %g", ir.Name, ir.Requests.Success, want[ir.Name].Success)
				}
				if ir.ActiveSeconds != tc.wantActive[ir.Name] {
					t.Errorf("%s: active %gs, want %gs", ir.Name, ir.ActiveSeconds, tc.wantActive[ir.Name])
				}
				if got := ir.Buckets[len(ir.Buckets)-1].Count; got != ir.Requests.Completed() {
					t.Errorf("%s: +Inf bucket %g, want the %g completed requests", ir.Name, got, ir.Requests.Completed())
				}
				if got := ir.Requests.Completed() + ir.Dropped; got != ir.Scheduled {
					t.Errorf("%s: completed + dropped = %g, scheduled %g", ir.Name, got, ir.Scheduled)
				}
				if len(ir.Windows) != len(tc.wantEnds) {
					t.Fatalf("%s: %d windows, want %d: %+v", ir.Name, len(ir.Windows), len(tc.wantEnds), ir.Windows)
				}
				if len(ir.Windows) > o.MaxWindows {
					t.Errorf("%s: %d windows, more than %d", ir.Name, len(ir.Windows), o.MaxWindows)
				}
				for i, w := range ir.Windows {
					if want := t0.Add(tc.wantEnds[i]); !w.End.Equal(want) {
						t.Errorf("%s window %d ends at %s, want %s", ir.Name, i, fmtTime(w.End), fmtTime(want))
					}
					if ir.Name == "a" && w.Requests.Success != tc.wantCounts[i] {
						t.Errorf("window %d: %g successes, want %g", i, w.Requests.Success, tc.wantCounts[i])
					}
					if (w.Latency == nil) != (w.Requests.Completed() == 0) {
						t.Errorf("%s window %d: latency %v with %g completed requests", ir.Name, i, w.Latency, w.Requests.Completed())
					}
					for j, v := range w.Latency {
						// Every request of these windows took 20 ms.
						if lo, hi := bucketOf(0.02); v < lo || v > hi {
							t.Errorf("%s window %d: p%g = %g, outside the bucket (%g, %g] of 20 ms", ir.Name, i, WindowQuantiles[j]*100, v, lo, hi)
						}
					}
				}
			}
		})
	}
}

func TestBuilderLongRunStaysBounded(t *testing.T) {
	t.Parallel()
	// Five hours of minute snapshots without a planned length: the
	// builder keeps at most 2*MaxWindows snapshots, and the record at most
	// MaxWindows windows of equal length but the last.
	o := DefaultOptions()
	b, err := NewBuilder(t0, o)
	if err != nil {
		t.Fatal(err)
	}
	s := state{}
	const total = 300
	for k := 1; k <= total; k++ {
		s.observe("a", c.OutcomeSuccess, 0.05, 1)
		if err := b.Add(s.snap(t0.Add(time.Duration(k) * time.Minute))); err != nil {
			t.Fatal(err)
		}
		if len(b.bounds) > 2*o.MaxWindows {
			t.Fatalf("after %d minutes the builder keeps %d snapshots", k, len(b.bounds))
		}
	}
	rec, err := b.Build(testMeta("r1", "shop", "1/1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := rec.Interfaces[0].Windows
	if len(ws) > o.MaxWindows || len(ws) < o.MaxWindows/4 {
		t.Fatalf("%d windows, want at most %d and not far fewer", len(ws), o.MaxWindows)
	}
	length := ws[0].End.Sub(ws[0].Start)
	if length < o.WindowLength(total*time.Minute) || length%time.Minute != 0 {
		t.Errorf("windows of %s, want whole minutes of at least %s", length, o.WindowLength(total*time.Minute))
	}
	for i, w := range ws[:len(ws)-1] {
		if w.End.Sub(w.Start) != length {
			t.Errorf("window %d lasts %s, want %s", i, w.End.Sub(w.Start), length)
		}
	}
}

func TestBuilderWarmupExcluded(t *testing.T) {
	t.Parallel()
	// The producer's snapshots count the steady phase only; the record
	// keeps the run's start apart from the steady start its windows use.
	b, err := NewBuilder(t0, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := state{}
	s.observe("a", c.OutcomeSuccess, 0.01, 5)
	if err := b.Add(s.snap(t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	m := testMeta("r1", "shop", "1/1")
	m.Start = t0.Add(-2 * time.Minute)
	m.End = t0.Add(time.Minute + 250*time.Millisecond)
	rec, err := b.Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Meta.Start.Equal(m.Start) || !rec.Meta.SteadyStart.Equal(t0) || !rec.Meta.End.Equal(m.End) {
		t.Errorf("meta times %s %s %s, want %s %s %s", rec.Meta.Start, rec.Meta.SteadyStart, rec.Meta.End, m.Start, t0, m.End)
	}
	w := rec.Interfaces[0].Windows
	if len(w) != 1 || !w[0].Start.Equal(t0) || w[0].Requests.Success != 5 {
		t.Errorf("windows %+v, want one from the steady start with 5 successes", w)
	}
}

func TestBuilderNoSteadyPhase(t *testing.T) {
	t.Parallel()
	// Interrupted during warm-up: a record with its identity and nothing else.
	b, err := NewBuilder(t0, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	m := testMeta("r1", "shop", "1/1")
	m.Status = c.RecordStatusInterrupted
	rec, err := b.Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Interfaces) != 0 || !rec.Meta.End.Equal(t0) {
		t.Errorf("record %+v, want no interfaces, ending at the steady start", rec)
	}
	if _, err := Encode(rec); err != nil {
		t.Error(err)
	}
}

func TestBuilderInterfaceJoinsLate(t *testing.T) {
	t.Parallel()
	b, err := NewBuilder(t0, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := state{}
	s.observe("a", c.OutcomeSuccess, 0.01, 1)
	if err := b.Add(s.snap(t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	s.observe("b", c.OutcomeSuccess, 0.01, 3)
	// "a" is absent from this snapshot: it keeps its state.
	if err := b.Add(Snapshot{Time: t0.Add(2 * time.Minute), Interfaces: map[string]InterfaceSnapshot{"b": s["b"]}}); err != nil {
		t.Fatal(err)
	}
	rec, err := b.Build(testMeta("r1", "shop", "1/1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, bi := rec.Interfaces[0], rec.Interfaces[1]
	if a.Requests.Success != 1 || a.Windows[1].Requests.Success != 0 {
		t.Errorf("a: %+v, want 1 success, none in the second window", a)
	}
	if bi.Windows[0].Requests.Success != 0 || bi.Windows[0].Latency != nil || bi.Windows[1].Requests.Success != 3 {
		t.Errorf("b: windows %+v, want nothing then 3 successes", bi.Windows)
	}
	if len(bi.Buckets) != len(c.DurationBuckets())+1 {
		t.Errorf("b: %d buckets, want every conventions bound and +Inf", len(bi.Buckets))
	}
}

func TestBuilderErrors(t *testing.T) {
	t.Parallel()
	one := func(n float64) Snapshot {
		s := state{}
		s.observe("a", c.OutcomeSuccess, 0.01, n)
		return s.snap(t0.Add(time.Minute))
	}
	tests := []struct {
		name string
		run  func(b *Builder) error
		want string
	}{
		{"counter reset", func(b *Builder) error {
			if err := b.Add(one(5)); err != nil {
				return err
			}
			s := one(4)
			s.Time = t0.Add(2 * time.Minute)
			return b.Add(s)
		}, `interface "a": success went down from 5 to 4`},
		{"snapshot out of order", func(b *Builder) error {
			if err := b.Add(one(5)); err != nil {
				return err
			}
			s := one(6)
			s.Time = t0.Add(30 * time.Second)
			return b.Add(s)
		}, "older than the previous one"},
		{"snapshot before the start", func(b *Builder) error {
			s := one(1)
			s.Time = t0.Add(-time.Second)
			return b.Add(s)
		}, "older than the previous one"},
		{"bucket layout changes", func(b *Builder) error {
			if err := b.Add(one(5)); err != nil {
				return err
			}
			s := one(6)
			s.Time = t0.Add(2 * time.Minute)
			is := s.Interfaces["a"]
			is.Buckets = is.Buckets[1:]
			s.Interfaces["a"] = is
			return b.Add(s)
		}, "buckets, the previous snapshot had"},
		{"buckets not cumulative", func(b *Builder) error {
			s := one(5)
			s.Interfaces["a"].Buckets[10].Count = 99
			return b.Add(s)
		}, "not cumulative"},
		{"buckets without +Inf", func(b *Builder) error {
			s := one(5)
			is := s.Interfaces["a"]
			is.Buckets = is.Buckets[:len(is.Buckets)-1]
			s.Interfaces["a"] = is
			return b.Add(s)
		}, "do not end with +Inf"},
		{"NaN count", func(b *Builder) error {
			s := one(5)
			is := s.Interfaces["a"]
			is.Dropped = math.NaN()
			s.Interfaces["a"] = is
			return b.Add(s)
		}, "dropped is NaN"},
		{"end before the latest snapshot", func(b *Builder) error {
			if err := b.Add(one(5)); err != nil {
				return err
			}
			m := testMeta("r1", "shop", "1/1")
			m.End = t0.Add(30 * time.Second)
			_, err := b.Build(m, nil)
			return err
		}, "before its latest snapshot"},
		{"bad shard", func(b *Builder) error {
			m := testMeta("r1", "shop", "1/1")
			m.Shard = "3/2"
			_, err := b.Build(m, nil)
			return err
		}, `shard "3/2" is not i/n`},
		{"unknown status", func(b *Builder) error {
			m := testMeta("r1", "shop", "1/1")
			m.Status = "done"
			_, err := b.Build(m, nil)
			return err
		}, `status "done" is not one of completed, interrupted, guard_aborted`},
		{"other steady start", func(b *Builder) error {
			m := testMeta("r1", "shop", "1/1")
			m.SteadyStart = t0.Add(time.Second)
			_, err := b.Build(m, nil)
			return err
		}, "is not the builder's"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := NewBuilder(t0, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			err = tc.run(b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultOptions().validate(); err != nil {
		t.Fatalf("DefaultOptions: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"window under a second", func(o *Options) { o.Window = time.Millisecond }, "shorter than a second"},
		{"no windows", func(o *Options) { o.MaxWindows = 0 }, "max windows 0"},
		{"negative plan", func(o *Options) { o.Planned = -time.Minute }, "negative"},
	} {
		o := DefaultOptions()
		tc.mutate(&o)
		if _, err := NewBuilder(t0, o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewBuilder(time.Time{}, DefaultOptions()); err == nil {
		t.Error("NewBuilder with a zero start: no error")
	}
}

func feedAt(ats []time.Duration, steps ...feedStep) []struct {
	at    time.Duration
	steps []feedStep
} {
	out := make([]struct {
		at    time.Duration
		steps []feedStep
	}, len(ats))
	for i, at := range ats {
		out[i].at, out[i].steps = at, steps
	}
	return out
}

// minuteTimes returns 1..n minutes.
func minuteTimes(n int) []time.Duration { return everyN(1, n) }

// everyN returns every n minutes up to total minutes.
func everyN(n, total int) []time.Duration {
	var out []time.Duration
	for k := n; k <= total; k += n {
		out = append(out, time.Duration(k)*time.Minute)
	}
	return out
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
