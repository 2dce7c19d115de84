package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/alerts"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

// fakeRun exposes, on a custom registry, the metric names `perfbase run`
// exports, with every request taking latency seconds, until ctx is done.
func fakeRun(ctx context.Context, t *testing.T, latency float64) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	labels := []string{conventions.LabelRunID, conventions.LabelInterface, conventions.LabelPhase, conventions.LabelOutcome}
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: conventions.MetricRequestsTotal, Help: "Completed requests."}, labels)
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: conventions.MetricRequestDuration, Help: "Latency.",
		Buckets: conventions.DurationBuckets()}, labels)
	sched := prometheus.NewCounterVec(prometheus.CounterOpts{Name: conventions.MetricRequestsScheduled, Help: "Scheduled."}, labels[:3])
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: conventions.MetricRunInfo, Help: "Run."}, []string{conventions.LabelRunID, conventions.LabelScenario})
	reg.MustRegister(reqs, dur, sched, info)
	info.WithLabelValues("e2e", "e2e").Set(1)
	lv := []string{"e2e", "checkout", conventions.PhaseSteady, conventions.OutcomeSuccess}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				sched.WithLabelValues(lv[:3]...).Inc()
				reqs.WithLabelValues(lv...).Inc()
				dur.WithLabelValues(lv...).Observe(latency)
			}
		}
	}()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// servedBaseline runs the `perfbase serve` server on a baseline with a
// 100 ms p99 for interface checkout.
func servedBaseline(ctx context.Context, t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "baseline.json")
	b := serveBaseline(0.1)
	b.Interfaces[0].Name = "checkout"
	writeServeBaseline(t, path, b)
	s, err := newBaselineServer(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, l, nil) }()
	t.Cleanup(func() { <-done })
	return l.Addr().String()
}

// TestAlertsEndToEnd: a real Prometheus loads the generated rules, scrapes
// a run and `perfbase serve`, and sends the latency alert to a real
// Alertmanager when latency is 3x the baseline; with healthy latency no
// alert fires, although the quantile rule is evaluated.
func TestAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	testservers.Need(t, "prometheus")
	testservers.Need(t, "prometheus-alertmanager")

	o := alerts.DefaultOptions()
	o.EvaluationInterval = model.Duration(time.Second)
	o.LatencyFor = model.Duration(5 * time.Second)
	files, err := alerts.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	rulesDir := t.TempDir()
	if _, err := alerts.WriteDir(rulesDir, files); err != nil {
		t.Fatal(err)
	}

	for name, tc := range map[string]struct {
		latency float64
		fires   bool
	}{
		"degraded": {latency: 0.3, fires: true},
		"healthy":  {latency: 0.05, fires: false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			am := testservers.Alertmanager(t, `
route: {receiver: sink, group_wait: 1s, group_interval: 1s}
receivers: [{name: sink}]
`)
			run := fakeRun(ctx, t, tc.latency)
			serve := servedBaseline(ctx, t)
			prom := testservers.Prometheus(t, fmt.Sprintf(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
alerting:
  alertmanagers: [{static_configs: [{targets: [%q]}]}]
scrape_configs:
  - {job_name: %s, static_configs: [{targets: [%q]}]}
  - {job_name: perfbase-serve, static_configs: [{targets: [%q]}]}
`, filepath.Join(rulesDir, alerts.RulesFile), strings.TrimPrefix(am.URL, "http://"), o.LoaderJob, run, serve))

			// Wait until the rules have evaluated the live p99.
			p99 := waitQuery(ctx, t, prom.URL, conventions.RuleLatencyQuantile("5m")+`{quantile="0.99"}`)
			t.Logf("live p99 = %g s (baseline 0.1 s, tolerance %g)", p99, o.LatencyTolerance)

			if tc.fires {
				for {
					if n := amAlerts(ctx, t, am.URL, conventions.AlertLatencyAboveBaseline); n > 0 {
						return
					}
					if ctx.Err() != nil {
						t.Fatalf("no %s arrived in Alertmanager; Prometheus alerts: %s", conventions.AlertLatencyAboveBaseline, e2eGet(t, prom.URL+"/api/v1/alerts"))
					}
					time.Sleep(500 * time.Millisecond)
				}
			}
			// Healthy: give the alert more than `for` plus a few evaluations.
			time.Sleep(time.Duration(o.LatencyFor) + 5*time.Second)
			if body := e2eGet(t, prom.URL+"/api/v1/alerts"); strings.Contains(body, conventions.AlertLatencyAboveBaseline) {
				t.Fatalf("healthy run has a latency alert in Prometheus: %s", body)
			}
			if n := amAlerts(ctx, t, am.URL, conventions.AlertLatencyAboveBaseline); n != 0 {
				t.Fatalf("healthy run sent %d latency alerts to Alertmanager", n)
			}
		})
	}
}

// waitQuery polls an instant query until it returns one finite sample.
func waitQuery(ctx context.Context, t *testing.T, promURL, q string) float64 {
	t.Helper()
	for {
		var resp struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		body := e2eGet(t, promURL+"/api/v1/query?query="+url.QueryEscape(q))
		if err := json.Unmarshal([]byte(body), &resp); err == nil && len(resp.Data.Result) == 1 {
			var v float64
			if s, ok := resp.Data.Result[0].Value[1].(string); ok {
				if _, err := fmt.Sscan(s, &v); err == nil && s != "NaN" {
					return v
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("query %s never returned a sample; last answer: %s", q, body)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// amAlerts counts the active alerts named name in Alertmanager.
func amAlerts(ctx context.Context, t *testing.T, amURL, name string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
		amURL+"/api/v2/alerts?filter="+url.QueryEscape(fmt.Sprintf("alertname=%q", name)), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		t.Fatalf("alertmanager: %v", err)
	}
	defer resp.Body.Close()
	var got []struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("alertmanager answer: %v", err)
	}
	for _, a := range got {
		if a.Labels[conventions.LabelInterface] != "checkout" || a.Labels[conventions.LabelSeverity] == "" {
			t.Errorf("unexpected alert labels %v", a.Labels)
		}
	}
	return len(got)
}

// e2eGet returns the body of a GET, failing the test on transport errors.
func e2eGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return string(b)
}
