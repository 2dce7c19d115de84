package loader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfbase/perfbase/loader/scenario"
)

// countingRecorder checks from the outside that every request is counted
// exactly once.
type countingRecorder struct {
	mu sync.Mutex
	m  map[string]*countingIface
}

type countingIface struct {
	sent, dropped, done atomic.Uint64
	outcomes            [NumOutcomes]atomic.Uint64
}

func (r *countingRecorder) Interface(name string) InterfaceRecorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*countingIface{}
	}
	c := &countingIface{}
	r.m[name] = c
	return c
}

func (c *countingIface) Sent(bool)                { c.sent.Add(1) }
func (c *countingIface) Dropped(_ bool, n uint64) { c.dropped.Add(n) }
func (c *countingIface) Done(o Observation)       { c.done.Add(1); c.outcomes[o.Outcome].Add(1) }
func (c *countingIface) SetTargetRate(float64)    {}
func (c *countingIface) SetUsers(int)             {}

func mustParse(t *testing.T, src string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Parse([]byte(src), t.Name()+".yml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkInvariant asserts scheduled = success + business + system + dropped
// in the summary and in what the recorder saw.
func checkInvariant(t *testing.T, sum *Summary, rec *countingRecorder) {
	t.Helper()
	for _, i := range sum.Interfaces {
		if got := i.Success + i.BusinessFailure + i.SystemFailure + i.Dropped; got != i.Scheduled {
			t.Errorf("%s: success+business+system+dropped = %d, scheduled = %d", i.Name, got, i.Scheduled)
		}
		c := rec.m[i.Name]
		if c.sent.Load() != c.done.Load() {
			t.Errorf("%s: recorder saw %d sent and %d done", i.Name, c.sent.Load(), c.done.Load())
		}
		if c.sent.Load()+c.dropped.Load() != i.Scheduled {
			t.Errorf("%s: recorder saw %d sent + %d dropped, summary says %d scheduled", i.Name, c.sent.Load(), c.dropped.Load(), i.Scheduled)
		}
		if c.outcomes[Success].Load() != i.Success || c.outcomes[BusinessFailure].Load() != i.BusinessFailure {
			t.Errorf("%s: recorder outcomes differ from the summary", i.Name)
		}
	}
}

func TestRunCountsEveryRequest(t *testing.T) {
	t.Parallel()
	var n atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		switch {
		case i%20 == 0:
			w.WriteHeader(http.StatusServiceUnavailable)
		case i%10 == 0:
			fmt.Fprint(w, `{"code":"1001"}`)
		default:
			fmt.Fprint(w, `{"code":"0000"}`)
		}
	}))
	defer srv.Close()
	s := mustParse(t, fmt.Sprintf(`name: t
target: %s
defaults: {expect: {status: [200], business: {json: code, equals: "0000"}}}
interfaces: [{name: a, path: /a}, {name: b, path: /b}]
stages:
  - {duration: 500ms, rate: 100, warmup: true}
  - {duration: 2s, rate: 200}
`, srv.URL))
	rec := &countingRecorder{}
	var progress atomic.Int32
	sum, err := Run(context.Background(), s, Options{Recorder: rec, Progress: func(Progress) { progress.Add(1) }, ProgressInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, sum, rec)
	var total, sys, biz uint64
	for _, i := range sum.Interfaces {
		// The mix splits the rate equally: 50/s for 500ms of warm-up and
		// 100/s for 2s steady, each.
		if i.Scheduled != 225 || i.Warmup != 25 {
			t.Errorf("%s: scheduled %d (warm-up %d), want 225 (25)", i.Name, i.Scheduled, i.Warmup)
		}
		if i.Dropped != 0 {
			t.Errorf("%s: %d dropped against a fast local target", i.Name, i.Dropped)
		}
		if i.LatencyP50 <= 0 || i.LatencyP99 < i.LatencyP50 || i.LatencyMax < i.LatencyP99 {
			t.Errorf("%s: latencies not ordered: p50=%g p99=%g max=%g", i.Name, i.LatencyP50, i.LatencyP99, i.LatencyMax)
		}
		total += i.Success + i.BusinessFailure + i.SystemFailure
		sys += i.SystemFailure
		biz += i.BusinessFailure
	}
	if total != 450 || sys != 22 || biz != 23 {
		t.Errorf("total=%d system failures=%d business failures=%d, want 450, 22, 23 (every 20th a 503, every other 10th a business failure)", total, sys, biz)
	}
	if progress.Load() == 0 {
		t.Error("no progress reported")
	}
}

func TestRunDropsWhatCannotBeSentOnTime(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
	}))
	defer srv.Close()
	s := mustParse(t, fmt.Sprintf(`name: t
target: %s
defaults: {max_in_flight: 2, lateness: 50ms}
interfaces: [{name: slow, path: /}]
stages: [{duration: 1s, rate: 100}]
`, srv.URL))
	rec := &countingRecorder{}
	sum, err := Run(context.Background(), s, Options{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, sum, rec)
	i := sum.Interfaces[0]
	if i.Scheduled != 100 {
		t.Errorf("scheduled %d, want 100", i.Scheduled)
	}
	// Two workers at 200 ms each can answer about 10 in a second.
	if i.Dropped < 70 {
		t.Errorf("dropped %d, want most of 100 with 2 in flight at 200ms each", i.Dropped)
	}
}

func TestRunClosedLoop(t *testing.T) {
	t.Parallel()
	var cur, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}))
	defer srv.Close()
	s := mustParse(t, fmt.Sprintf(`name: t
target: %s
interfaces: [{name: a, path: /}]
stages: [{duration: 1s, users: 4}]
`, srv.URL))
	rec := &countingRecorder{}
	sum, err := Run(context.Background(), s, Options{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, sum, rec)
	if p := peak.Load(); p > 4 {
		t.Errorf("%d requests in flight at once with 4 virtual users", p)
	}
	if sum.Interfaces[0].Success < 40 {
		t.Errorf("only %d requests in 1s with 4 users at 10ms", sum.Interfaces[0].Success)
	}
}

func TestRunStopsCleanlyOnCancel(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s := mustParse(t, fmt.Sprintf(`name: t
target: %s
interfaces: [{name: a, path: /}]
stages: [{duration: 30s, rate: 100}]
`, srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	rec := &countingRecorder{}
	sum, err := Run(ctx, s, Options{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Interrupted {
		t.Error("summary not marked interrupted")
	}
	checkInvariant(t, sum, rec)
	if n := sum.Interfaces[0].Scheduled; n == 0 || n >= 3000 {
		t.Errorf("scheduled %d: want what was due before the stop, far below 3000", n)
	}
}

func TestGuardAborts(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s := mustParse(t, fmt.Sprintf(`name: t
target: %s
interfaces: [{name: a, path: /}]
stages: [{duration: 30s, rate: 100}]
guard: {min_system_success: 0.5, window: 1s, min_requests: 10}
`, srv.URL))
	rec := &countingRecorder{}
	sum, err := Run(context.Background(), s, Options{Recorder: rec})
	if !errors.Is(err, ErrGuardAborted) {
		t.Fatalf("err = %v, want ErrGuardAborted", err)
	}
	if !sum.GuardAborted || sum.Passed {
		t.Errorf("summary: guard_aborted=%v passed=%v", sum.GuardAborted, sum.Passed)
	}
	checkInvariant(t, sum, rec)
	if n := sum.Interfaces[0].Scheduled; n >= 3000 {
		t.Errorf("scheduled %d: the guard did not stop the run", n)
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `name: t
target: http://127.0.0.1:1
interfaces: [{name: a, path: /}, {name: b, path: /}]
stages: [{duration: 1s, rate: 1}]
thresholds:
  "*": {p99: 100ms, system_success: 0.99}
  a: {p99: 300ms, business_success: 0.9}
`)
	is := &InterfaceSummary{Name: "a", LatencyP99: 0.2, SystemSuccessRatio: 0.995, BusinessSuccessRatio: 0.8}
	res, ok := checkThresholds(s, "a", is)
	if ok {
		t.Error("a passed with business success 0.8 < 0.9")
	}
	got := map[string]bool{}
	for _, r := range res {
		got[r.Name] = r.Passed
	}
	want := map[string]bool{"p99": true, "system_success": true, "business_success": false}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("thresholds of a = %v, want %v (a's p99 replaces the default)", got, want)
	}
	is.Name = "b"
	if _, ok := checkThresholds(s, "b", is); ok {
		t.Error("b passed with p99 200ms > 100ms")
	}
}
