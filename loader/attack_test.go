package loader

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// slowTarget answers after hold and counts the requests it holds at once.
func slowTarget(t *testing.T, hold time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var inflight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &peak
}

// TestPoolFollowsLittlesLaw: a target answering in 50 ms at 400 req/s
// needs about 20 requests in flight. The pool grows to carry them without
// drops, and stays far below the 10,000 ceiling.
//
// Not parallel: other tests' load on the same cores would make this one
// about CPU, not about the target.
func TestPoolFollowsLittlesLaw(t *testing.T) {
	srv, peak := slowTarget(t, 50*time.Millisecond)
	s := mustParse(t, fmt.Sprintf(`name: little
target: %s
defaults: {timeout: 2s}
interfaces:
  - {name: q, path: /}
stages:
  - {duration: 3s, rate: 400}
`, srv.URL))
	rec := &countingRecorder{}
	sum, err := Run(context.Background(), s, Options{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, sum, rec)
	is := sum.Interfaces[0]
	if is.Scheduled != 1200 || is.Success+is.Dropped != 1200 || is.Dropped > 12 {
		t.Errorf("scheduled %d, success %d, dropped %d: want 1200 scheduled and at most 1%% dropped", is.Scheduled, is.Success, is.Dropped)
	}
	g := sum.Generator
	t.Logf("generator: %+v", g)
	if g.PeakWorkers < 20 || g.PeakWorkers > 200 {
		t.Errorf("peak workers %d, want between the 20 Little's law needs and 200", g.PeakWorkers)
	}
	if peak.Load() < 15 {
		t.Errorf("the target held at most %d requests at once, want about 20", peak.Load())
	}
}

// TestStalledTargetHitsTheCeilingNotSaturation: when the target holds
// every request, the pool grows to the user's max_in_flight and no
// further; the arrivals it cannot carry are dropped and counted, and the
// generator is not blamed for them.
func TestStalledTargetHitsTheCeilingNotSaturation(t *testing.T) {
	t.Parallel()
	srv, peak := slowTarget(t, time.Minute)
	s := mustParse(t, fmt.Sprintf(`name: stalled
target: %s
defaults: {timeout: 3s, max_in_flight: 25}
interfaces:
  - {name: q, path: /}
stages:
  - {duration: 2s, rate: 100}
`, srv.URL))
	rec := &countingRecorder{}
	sum, err := Run(context.Background(), s, Options{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, sum, rec)
	is := sum.Interfaces[0]
	g := sum.Generator
	if g.PeakWorkers != 25 || peak.Load() != 25 {
		t.Errorf("peak workers %d, target held %d at once: want the ceiling, 25", g.PeakWorkers, peak.Load())
	}
	if is.Dropped < 150 || is.SystemFailure != 25 {
		t.Errorf("dropped %d, timed out %d: want about 175 dropped at the ceiling and 25 timeouts", is.Dropped, is.SystemFailure)
	}
	// While the pool grows (at most 2x per 100 ms) a few arrivals may
	// wait out their lateness with room to spare; the drops at the
	// ceiling are the target's, and the generator is not saturated.
	if g.Saturated || g.Dropped*10 > is.Dropped {
		t.Errorf("drops at the ceiling blamed on the generator: %d of %d, %+v", g.Dropped, is.Dropped, g)
	}
}

// stopRecorder counts the requests the engine sends after stopped is set.
type stopRecorder struct {
	countingRecorder
	stopped *atomic.Bool
	after   *atomic.Int64
}

func (r *stopRecorder) Interface(name string) InterfaceRecorder {
	return stopIface{InterfaceRecorder: r.countingRecorder.Interface(name), r: r}
}

type stopIface struct {
	InterfaceRecorder
	r *stopRecorder
}

func (s stopIface) Sent(warmup bool) {
	if s.r.stopped.Load() {
		s.r.after.Add(1)
	}
	s.InterfaceRecorder.Sent(warmup)
}

// TestStopSendsNothingMore: after an early stop the engine sends nothing
// more, even at a rate where arrivals are always due, and Run returns as
// soon as the requests in flight are answered.
func TestStopSendsNothingMore(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	for _, stage := range []string{"{duration: 1m, rate: 2000}", "{duration: 1m, users: 20}", "{duration: 1m, rate: 0.05}"} {
		s := mustParse(t, fmt.Sprintf("name: stop\ntarget: %s\ninterfaces:\n  - {name: q, path: /}\nstages:\n  - %s\n", srv.URL, stage))
		ctx, cancel := context.WithCancel(context.Background())
		var stopped atomic.Bool
		var after atomic.Int64
		time.AfterFunc(300*time.Millisecond, func() {
			cancel()
			// The engine sees the cancellation a moment later; a send
			// that began in that moment is not one after the stop.
			time.AfterFunc(20*time.Millisecond, func() { stopped.Store(true) })
		})
		began := time.Now()
		rec := &stopRecorder{stopped: &stopped, after: &after}
		sum, err := Run(ctx, s, Options{Recorder: rec})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(began)
		checkInvariant(t, sum, &rec.countingRecorder)
		if took > 2*time.Second {
			t.Errorf("%s: Run returned %v after the start, 300 ms after which it was stopped", stage, took)
		}
		if n := after.Load(); n > 0 {
			t.Errorf("%s: %d requests were sent after the stop", stage, n)
		}
		if !sum.Interrupted {
			t.Errorf("%s: summary not marked interrupted", stage)
		}
	}
	if hits.Load() == 0 {
		t.Error("nothing was sent before the stops")
	}
}

func TestJudgeSaturation(t *testing.T) {
	t.Parallel()
	lagged := func(d time.Duration, n int) *histSnapshot {
		var h histogram
		for range n {
			h.observe(d)
		}
		var s histSnapshot
		h.snapshot(&s)
		return &s
	}
	for _, c := range []struct {
		name            string
		lag             *histSnapshot
		drops, arrivals uint64
		want            bool
	}{
		{"on time", lagged(200*time.Microsecond, 1000), 0, 1000, false},
		{"late", lagged(50*time.Millisecond, 1000), 0, 1000, true},
		{"dropping", lagged(time.Millisecond, 900), 100, 1000, true},
		{"1% drops is not", lagged(time.Millisecond, 990), 10, 1000, false},
		{"too few to judge", lagged(time.Second, 10), 10, 20, false},
	} {
		if got := judge(c.lag, c.drops, c.arrivals); got != c.want {
			t.Errorf("%s: judge = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRequestsCarryOnlyTheScenariosHeaders: the target sees the headers the
// scenario sets, the User-Agent perfbase, Host and Content-Length, and no
// others (no default Content-Type, no Accept-Encoding), over the HTTP
// client of plain-HTTP targets.
func TestRequestsCarryOnlyTheScenariosHeaders(t *testing.T) {
	t.Parallel()
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Clone():
		default:
		}
	}))
	t.Cleanup(srv.Close)
	s := mustParse(t, fmt.Sprintf(`name: headers
target: %s
interfaces:
  - {name: q, method: POST, path: /, headers: {X-Custom: "v 1"}, body: '{"a":1}'}
stages:
  - {duration: 200ms, rate: 20}
`, srv.URL))
	if _, err := Run(context.Background(), s, Options{}); err != nil {
		t.Fatal(err)
	}
	h := <-got
	want := map[string]string{"X-Custom": "v 1", "User-Agent": DefaultUserAgent, "Content-Length": "7"}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
	for k := range h {
		if _, ok := want[k]; !ok {
			t.Errorf("header %s: %q was not asked for", k, h.Get(k))
		}
	}
}
