package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
	"github.com/perfbase/perfbase/loader/scenario"
)

func testScenario(t *testing.T, target string) *scenario.Scenario {
	t.Helper()
	y := fmt.Sprintf(`name: runner-test
target: %s
interfaces:
  - name: ping
    path: /ping
stages:
  - {duration: 1s, rate: 50}
`, target)
	s, err := scenario.Parse([]byte(y), "runner-test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	s := testScenario(t, "http://127.0.0.1:1")
	good := func() Options {
		o := DefaultOptions()
		o.Scenario, o.DataDir = s, t.TempDir()
		return o
	}
	if o := good(); o.validate() != nil {
		t.Fatalf("good options rejected: %v", o.validate())
	}
	cases := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"no scenario", func(o *Options) { o.Scenario = nil }, "no scenario"},
		{"bad run id", func(o *Options) { o.RunID = "a b" }, `--run-id "a b"`},
		{"run id too long", func(o *Options) { o.RunID = strings.Repeat("a", 129) }, "at most 128"},
		{"store interval", func(o *Options) { o.StoreInterval = 0 }, "--store-interval 0s"},
		{"negative linger", func(o *Options) { o.Linger = -time.Second }, "--linger -1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := good()
			tc.mutate(&o)
			err := o.validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
	o := good()
	o.Now = func() time.Time { return time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC) }
	if err := o.validate(); err != nil || o.RunID != "runner-test-20261126T0800Z" {
		t.Fatalf("default run id %q, %v", o.RunID, err)
	}
}

// TestRunRecordsAndSummarisesFirst runs a real load into a real store:
// every request reaches the target, the summary callback sees it before
// the store is closed, and the store holds the summary's counts.
func TestRunRecordsAndSummarisesFirst(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer ts.Close()
	dir := t.TempDir()
	o := DefaultOptions()
	o.Scenario, o.DataDir, o.RunID, o.StoreInterval = testScenario(t, ts.URL), dir, "r1", 200*time.Millisecond
	var calls int
	o.Summary = func(sum *loader.Summary) error {
		calls++
		if sum.RunID != "r1" || sum.Shard != "" { // a run not split has no shard label
			return fmt.Errorf("summary run %q shard %q", sum.RunID, sum.Shard)
		}
		return nil
	}
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("summary callback called %d times", calls)
	}
	is := res.Summary.Interfaces[0]
	if is.Scheduled == 0 || int64(is.Success) != hits.Load() {
		t.Fatalf("summary: %d scheduled, %d success; target saw %d", is.Scheduled, is.Success, hits.Load())
	}
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatalf("store not closed by the run: %v", err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	v, err := db.Querier().Query(context.Background(), `sum(perfbase_requests_total{run_id="r1",outcome="success"})`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	vec, ok := v.(model.Vector)
	if !ok || len(vec) != 1 || uint64(vec[0].Value) != is.Success {
		t.Fatalf("store holds %v, summary says %d successes", v, is.Success)
	}
}

// TestRunRefusedBeforeLoad: a port in use is the user's input, reported
// as an InputError, and no request is sent.
func TestRunRefusedBeforeLoad(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer ts.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	o := DefaultOptions()
	o.Scenario, o.Listen = testScenario(t, ts.URL), l.Addr().String()
	_, err = Run(t.Context(), o)
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("Run with a busy port: %v, want an InputError", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests sent by a refused run", hits.Load())
	}
}

// TestLingerEndsOnQuit: after an interrupted run, a second Ctrl-C (Quit)
// ends the linger at once.
func TestLingerEndsOnQuit(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	quit := make(chan struct{})
	close(quit)
	o := DefaultOptions()
	o.Linger, o.Quit = time.Hour, quit
	done := make(chan struct{})
	go func() { o.linger(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("linger of an hour did not end on Quit")
	}
}

// TestRunWritesItsRecord: a real load with a warm-up stage leaves one
// record in the store whose steady-phase counts are the summary's minus
// the warm-up, whose windows add up, and which says how the run ended.
func TestRunWritesItsRecord(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ts.Close()
	s, err := scenario.Parse([]byte(fmt.Sprintf(`name: rec
target: %s
interfaces: [{name: a, path: /a}, {name: b, path: /b}]
mode: mixed
stages:
  - {duration: 1s, rate: 40, warmup: true}
  - {duration: 3s, rate: 100}
thresholds: {"*": {system_success: 0.9}}
`, ts.URL)), "rec.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o := DefaultOptions()
	o.Scenario, o.DataDir, o.RunID = s, dir, "rec-1"
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	recs := readRecords(t, db.Querier())
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Meta.RunID != "rec-1" || r.Meta.Scenario != "rec" || r.Meta.Shard != "1/1" || r.Meta.Status != "completed" || r.Meta.Thresholds != "passed" {
		t.Fatalf("meta %+v", r.Meta)
	}
	if got := r.Meta.SteadyStart.Sub(r.Meta.Start); got < 900*time.Millisecond || got > 1100*time.Millisecond {
		t.Errorf("steady phase starts %s after the run, want the 1s warm-up", got)
	}
	for _, ir := range r.Interfaces {
		var sum loader.InterfaceSummary
		for _, is := range res.Summary.Interfaces {
			if is.Name == ir.Name {
				sum = is
			}
		}
		steady := float64(sum.Success+sum.BusinessFailure+sum.SystemFailure) - ir.Requests.Completed()
		if ir.Requests.Completed() < 100 || steady <= 0 || steady > 40 {
			t.Errorf("%s: record has %g completed, summary %d of which warm-up would be %g", ir.Name, ir.Requests.Completed(), sum.Success, steady)
		}
		var inWindows float64
		for _, w := range ir.Windows {
			inWindows += w.Requests.Completed()
		}
		if len(ir.Windows) == 0 || inWindows != ir.Requests.Completed() {
			t.Errorf("%s: %d windows hold %g requests of %g", ir.Name, len(ir.Windows), inWindows, ir.Requests.Completed())
		}
		if ir.ActiveSeconds < 2 || ir.ActiveSeconds > 4 {
			t.Errorf("%s: active %gs in a 3s steady stage", ir.Name, ir.ActiveSeconds)
		}
	}
}

// TestInterruptedRunRecorded: Ctrl-C during the steady phase still leaves
// a record, marked interrupted.
func TestInterruptedRunRecorded(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ts.Close()
	s, err := scenario.Parse([]byte(fmt.Sprintf(`name: intr
target: %s
interfaces: [{name: a, path: /a}]
stages: [{duration: 1h, rate: 50}]
`, ts.URL)), "intr.yml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	dir := t.TempDir()
	o := DefaultOptions()
	o.Scenario, o.DataDir, o.RunID = s, dir, "intr-1"
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	recs := readRecords(t, db.Querier())
	if len(recs) != 1 || recs[0].Meta.Status != "interrupted" || recs[0].Interfaces[0].Requests.Completed() < 50 {
		t.Fatalf("records after an interrupt: %+v", recs)
	}
}

func readRecords(t *testing.T, q *store.Querier) []runrecord.Record {
	t.Helper()
	exprs, err := runrecord.Query{Range: 24 * time.Hour}.Exprs()
	if err != nil {
		t.Fatal(err)
	}
	var ms []model.Matrix
	for _, e := range exprs {
		v, err := q.Query(context.Background(), e, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		m, ok := v.(model.Matrix)
		if !ok {
			t.Fatalf("%s: %T", e, v)
		}
		ms = append(ms, m)
	}
	recs, err := runrecord.Decode(ms...)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
