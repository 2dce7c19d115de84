package exporter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader"
)

func fixedNow() time.Time { return time.Unix(1700000000, 0) }

// record drives a recorder through a known sequence: 10 warm-up successes,
// then 100 steady requests of which 7 business failures, 3 timeouts and
// 5 drops.
func record(rec loader.Recorder) {
	r := rec.Interface("query_balance")
	r.SetTargetRate(50)
	for range 10 {
		r.Sent(true)
		r.Done(loader.Observation{Outcome: loader.Success, Code: "0000", Latency: 3 * time.Millisecond, Warmup: true})
	}
	for i := range 100 {
		r.Sent(false)
		switch {
		case i < 7:
			r.Done(loader.Observation{Outcome: loader.BusinessFailure, Reason: conventions.ReasonBusinessCode, Code: "1001", Latency: 20 * time.Millisecond})
		case i < 10:
			r.Done(loader.Observation{Outcome: loader.SystemFailure, Reason: conventions.ReasonTimeout, Latency: 2 * time.Second})
		default:
			r.Done(loader.Observation{Outcome: loader.Success, Code: "0000", Latency: time.Duration(i) * time.Millisecond})
		}
	}
	r.Dropped(false, 5)
}

func TestMetricsCountEveryRequest(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", Scenario: "top", Mode: "mixed", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	record(m)
	want := `
# HELP perfbase_requests_total Completed requests by interface, phase and outcome (success, business_failure, system_failure).
# TYPE perfbase_requests_total counter
perfbase_requests_total{interface="query_balance",outcome="business_failure",phase="steady",run_id="r1"} 7
perfbase_requests_total{interface="query_balance",outcome="business_failure",phase="warmup",run_id="r1"} 0
perfbase_requests_total{interface="query_balance",outcome="success",phase="steady",run_id="r1"} 90
perfbase_requests_total{interface="query_balance",outcome="success",phase="warmup",run_id="r1"} 10
perfbase_requests_total{interface="query_balance",outcome="system_failure",phase="steady",run_id="r1"} 3
perfbase_requests_total{interface="query_balance",outcome="system_failure",phase="warmup",run_id="r1"} 0
# HELP perfbase_requests_scheduled_total Requests taken off the schedule: sent or dropped.
# TYPE perfbase_requests_scheduled_total counter
perfbase_requests_scheduled_total{interface="query_balance",phase="steady",run_id="r1"} 105
perfbase_requests_scheduled_total{interface="query_balance",phase="warmup",run_id="r1"} 10
# HELP perfbase_requests_dropped_total Scheduled requests that could not be sent on time and never were.
# TYPE perfbase_requests_dropped_total counter
perfbase_requests_dropped_total{interface="query_balance",phase="steady",run_id="r1"} 5
perfbase_requests_dropped_total{interface="query_balance",phase="warmup",run_id="r1"} 0
# HELP perfbase_request_failures_total Failed requests by bounded reason (timeout, connection_refused, http_5xx, business_code, ...).
# TYPE perfbase_request_failures_total counter
perfbase_request_failures_total{interface="query_balance",phase="steady",reason="business_code",run_id="r1"} 7
perfbase_request_failures_total{interface="query_balance",phase="steady",reason="timeout",run_id="r1"} 3
# HELP perfbase_requests_in_flight Requests sent and not yet answered.
# TYPE perfbase_requests_in_flight gauge
perfbase_requests_in_flight{interface="query_balance",run_id="r1"} 0
# HELP perfbase_target_rate_requests_per_second Scheduled open-loop arrival rate of this loader in requests per second.
# TYPE perfbase_target_rate_requests_per_second gauge
perfbase_target_rate_requests_per_second{interface="query_balance",run_id="r1"} 50
# HELP perfbase_run_info Always 1: the run's scenario and mode.
# TYPE perfbase_run_info gauge
perfbase_run_info{mode="mixed",run_id="r1",scenario="top"} 1
# HELP perfbase_run_start_timestamp_seconds Start of the run in Unix seconds.
# TYPE perfbase_run_start_timestamp_seconds gauge
perfbase_run_start_timestamp_seconds{run_id="r1"} 1.7e+09
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		conventions.MetricRequestsTotal, conventions.MetricRequestsScheduled, conventions.MetricRequestsDropped,
		conventions.MetricFailures, conventions.MetricInFlight, conventions.MetricTargetRate,
		conventions.MetricRunInfo, conventions.MetricRunStart); err != nil {
		t.Fatal(err)
	}
	// The invariant, read back from the exposition as a user would.
	sched := testutil.ToFloat64(m.scheduled.WithLabelValues("query_balance", "steady"))
	var done float64
	for _, o := range conventions.Outcomes {
		done += testutil.ToFloat64(m.requests.WithLabelValues("query_balance", "steady", o))
	}
	if drop := testutil.ToFloat64(m.dropped.WithLabelValues("query_balance", "steady")); done+drop != sched {
		t.Errorf("success+business+system+dropped = %g, scheduled = %g", done+drop, sched)
	}
}

func TestMetricsHistogramLayout(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	record(m)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var h *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() != conventions.MetricRequestDuration {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if labelValue(mt, "outcome") == "success" && labelValue(mt, "phase") == "steady" {
				h = mt.GetHistogram()
			}
		}
	}
	if h == nil {
		t.Fatal("no steady success latency histogram")
	}
	if got, want := len(h.GetBucket()), len(conventions.DurationBuckets()); got != want {
		t.Errorf("%d buckets, want the conventions layout of %d", got, want)
	}
	if h.GetSampleCount() != 90 {
		t.Errorf("sample count %d, want 90", h.GetSampleCount())
	}
	// Successes took 10..99 ms: 1+2+...: sum = (10+99)*90/2 ms.
	if want := 4.905; abs(h.GetSampleSum()-want) > 1e-9 {
		t.Errorf("sample sum %g, want %g", h.GetSampleSum(), want)
	}
}

func TestMetricsLint(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", Scenario: "s", Mode: "mixed", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	record(m)
	m.Finish(&loader.Summary{Interfaces: []loader.InterfaceSummary{{Name: "query_balance", Thresholds: []loader.ThresholdResult{{Name: "p99", Passed: true}}}}})
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, conventions.Namespace+"_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestMetricsBoundBusinessCodes(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Interface("recharge")
	for i := range 50 {
		r.Sent(false)
		r.Done(loader.Observation{Outcome: loader.BusinessFailure, Reason: conventions.ReasonBusinessCode, Code: fmt.Sprintf("E%03d", i)})
	}
	if n := testutil.CollectAndCount(m.codes); n != conventions.MaxBusinessCodes+1 {
		t.Errorf("%d business code series, want %d and %q", n, conventions.MaxBusinessCodes+1, conventions.BusinessCodeOther)
	}
	if got := testutil.ToFloat64(m.codes.WithLabelValues("recharge", conventions.BusinessCodeOther)); got != 30 {
		t.Errorf("other = %g, want 30", got)
	}
}

func TestMetricsShardAndFinish(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", Shard: "2/3", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	m.Interface("a")
	m.Finish(&loader.Summary{GuardAborted: true, Interfaces: []loader.InterfaceSummary{{Name: "a", Thresholds: []loader.ThresholdResult{{Name: "p99", Passed: false}, {Name: "business_success", Passed: true}}}}})
	want := `
# HELP perfbase_guard_aborted 1 when the guard aborted the run to protect the target.
# TYPE perfbase_guard_aborted gauge
perfbase_guard_aborted{run_id="r1",shard="2/3"} 1
# HELP perfbase_threshold_passed 1 when the scenario threshold passed at the end of the run, 0 when it failed.
# TYPE perfbase_threshold_passed gauge
perfbase_threshold_passed{interface="a",run_id="r1",shard="2/3",threshold="business_success"} 1
perfbase_threshold_passed{interface="a",run_id="r1",shard="2/3",threshold="p99"} 0
# HELP perfbase_run_end_timestamp_seconds End of the run in Unix seconds; 0 while it runs.
# TYPE perfbase_run_end_timestamp_seconds gauge
perfbase_run_end_timestamp_seconds{run_id="r1",shard="2/3"} 1.7e+09
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		conventions.MetricGuardAborted, conventions.MetricThresholdPassed, conventions.MetricRunEnd); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{
		"empty run id":      {},
		"multi-line run id": {RunID: "a\nb"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestVMMetricsAgree records the same sequence with both libraries and
// compares every perfbase sample they expose.
func TestVMMetricsAgree(t *testing.T) {
	t.Parallel()
	opts := Options{RunID: "r1", Scenario: "top", Mode: "mixed", Now: fixedNow}
	cg, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVM(opts)
	if err != nil {
		t.Fatal(err)
	}
	record(cg)
	record(v)
	var cgText, vmText bytes.Buffer
	mfs, err := cg.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	enc := expfmt.NewEncoder(&cgText, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	v.WritePrometheus(&vmText)
	a, b := samples(t, cgText.String()), samples(t, vmText.String())
	if len(b) < 100 {
		t.Fatalf("only %d samples from VictoriaMetrics/metrics", len(b))
	}
	for k, want := range b {
		if got, ok := a[k]; !ok || got != want {
			t.Errorf("%s: client_golang %g (present %v), VictoriaMetrics/metrics %g", k, got, ok, want)
		}
	}
}

// samples flattens a text exposition into series -> value, perfbase
// series only, with zero-valued samples dropped (the libraries differ in
// which zero series they expose).
func samples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, conventions.Namespace+"_") || name == conventions.MetricRunStart {
			continue
		}
		vec, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, mf)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range vec {
			if s.Value == 0 {
				continue
			}
			m := s.Metric.Clone()
			if le, ok := m["le"]; ok {
				// Normalise bucket bounds printed differently (1e-3 vs 0.001).
				var f float64
				if _, err := fmt.Sscan(string(le), &f); err != nil {
					t.Fatalf("%s: le %q: %v", name, le, err)
				}
				m["le"] = model.LabelValue(fmt.Sprint(f))
			}
			out[m.String()] = float64(s.Value)
		}
	}
	return out
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestNativeHistogramsKeepClassicBuckets: --native-histograms adds sparse
// buckets beside the classic layout, which stays for le-based queries.
func TestNativeHistogramsKeepClassicBuckets(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", NativeHistograms: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	record(m)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, mf := range mfs {
		if mf.GetName() != conventions.MetricRequestDuration {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if labelValue(mt, "outcome") != "success" || labelValue(mt, "phase") != "steady" {
				continue
			}
			h := mt.GetHistogram()
			found = true
			if len(h.GetBucket()) != len(conventions.DurationBuckets()) {
				t.Errorf("%d classic buckets, want %d", len(h.GetBucket()), len(conventions.DurationBuckets()))
			}
			if len(h.GetPositiveSpan()) == 0 || len(h.GetPositiveDelta()) == 0 {
				t.Errorf("no native buckets: schema %d, spans %v", h.GetSchema(), h.GetPositiveSpan())
			}
			// Factor 1.1 asks for schema 3 (2^(2^-3) = 1.09).
			if h.GetSchema() != 3 {
				t.Errorf("native schema %d, want 3", h.GetSchema())
			}
		}
	}
	if !found {
		t.Fatal("no steady success histogram")
	}
}

// TestSeriesPerInterface backs the README's cost figure: one interface's
// steady phase exports 3 histograms of 76 series plus 8 counters and
// gauges (236), and at most 11 failure reasons and 21 business codes more
// (268).
func TestSeriesPerInterface(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Interface("query_balance")
	for i, reason := range conventions.Reasons {
		r.Sent(false)
		r.Done(loader.Observation{Outcome: loader.SystemFailure, Reason: reason, Code: fmt.Sprintf("E%d", i)})
	}
	for i := range 30 {
		r.Sent(false)
		r.Done(loader.Observation{Outcome: loader.Success, Code: fmt.Sprintf("C%d", i), Latency: time.Millisecond})
	}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var min, all int
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			if labelValue(mt, conventions.LabelInterface) != "query_balance" {
				continue
			}
			n := 1
			if h := mt.GetHistogram(); h != nil {
				n = len(h.GetBucket()) + 3 // + the +Inf bucket, _sum and _count
			}
			all += n
			if mf.GetName() != conventions.MetricFailures && mf.GetName() != conventions.MetricBusinessCodes {
				min += n
			}
		}
	}
	if min != 236 || all != 236+len(conventions.Reasons)+conventions.MaxBusinessCodes+1 {
		t.Errorf("%d series without failures or codes, %d with all of them; the README says 236 and 268", min, all)
	}
	t.Logf("series per interface: %d to %d", min, all)
}
