package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/alerts"
	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/demotarget"
	"github.com/perfbase/perfbase/internal/testservers"
)

// alertsScenario loads the demo's slowest interface at a steady rate. At a
// 25 ms median, the few milliseconds a loaded machine adds to each request
// stay small next to the latency itself, so the healthy run matches its
// modelled baseline. The steady stage outlasts the alert's `for` several
// times over.
const alertsScenario = `name: alerts-e2e
target: TARGET
defaults:
  timeout: 2s
interfaces:
  - name: recharge
    method: POST
    path: /api/recharge
    headers: {Content-Type: application/json}
    body: '{"amount":10}'
    expect: {status: [200], business: {json: code, equals: "0000"}}
stages:
  - {duration: 2s, rate: 40, warmup: true}
  - {duration: 25s, rate: 60}
`

// Settings of the end-to-end test. Tolerance 1 (alert above twice the
// baseline) leaves room both ways: a healthy run on a loaded machine was
// measured within 5% of the model, and a 5x slowdown is 2.5x the threshold.
const (
	e2eInterface = "recharge"
	e2eTolerance = 1.0
	e2eFor       = 10 * time.Second
	e2eEval      = time.Second
	e2eSlowdown  = 5
)

// TestAlertsEndToEnd: the rules `perfbase alerts` generates, loaded by a
// real Prometheus that scrapes a real `perfbase run` against `perfbase
// demo-target` and a real `perfbase serve` of a baseline modelled on the
// healthy demo target, send the latency alert to a real Alertmanager when the
// target is slowed down 5x; with a healthy target, the alert is never even
// pending although the live quantile is compared with the baseline at every
// evaluation.
func TestAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	testservers.Need(t, "prometheus")
	testservers.Need(t, "prometheus-alertmanager")
	bin := binary(t)

	rulesDir := t.TempDir()
	if code, stdout, stderr := perfbase(t, "alerts", "--out", rulesDir, "--eval-interval", model.Duration(e2eEval).String(),
		"--latency-for", model.Duration(e2eFor).String(), "--latency-tolerance", fmt.Sprint(e2eTolerance)); code != 0 {
		t.Fatalf("perfbase alerts: exit %d\n%s%s", code, stdout, stderr)
	}
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	if err := healthyBaseline(t, e2eInterface, "/api/recharge").Save(baseline); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		slowdown float64
		fires    bool
	}{
		{name: "degraded", slowdown: e2eSlowdown, fires: true},
		{name: "healthy", slowdown: 1, fires: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 80*time.Second)
			defer cancel()

			target := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
			startCLI(t, bin, "demo-target", "--listen", target, "--slowdown", fmt.Sprint(tc.slowdown))
			waitHTTP(ctx, t, "http://"+target+"/-/degrade")
			serve := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
			startCLI(t, bin, "serve", "--baseline", baseline, "--listen", serve)
			waitHTTP(ctx, t, "http://"+serve+"/-/healthy")

			am := testservers.Alertmanager(t, `
route: {receiver: sink, group_wait: 1s, group_interval: 1s}
receivers: [{name: sink}]
`)
			runAddr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
			prom := testservers.Prometheus(t, fmt.Sprintf(`
global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}
rule_files: [%q]
alerting:
  alertmanagers: [{static_configs: [{targets: [%q]}]}]
scrape_configs:
  - {job_name: perfbase, static_configs: [{targets: [%q]}]}
  - {job_name: perfbase-serve, static_configs: [{targets: [%q]}]}
`, filepath.Join(rulesDir, alerts.RulesFile), strings.TrimPrefix(am.URL, "http://"), runAddr, serve))
			papi := promAPI(t, prom.URL)
			waitForTarget(t, prom.URL, runAddr)

			scen := writeScenario(t, "http://"+target, alertsScenario)
			run := startCLI(t, bin, "run", "--run-id", "alerts-"+tc.name, "--listen", runAddr, "--linger", "2s",
				"--no-store", "--progress", "off", scen)

			// Without the baseline in Prometheus the alert could not fire,
			// and the healthy case would pass for nothing.
			gauge := fmt.Sprintf(`%s{%s=%q}`, conventions.BaselineGauge(conventions.BaselineLatencyP99), conventions.LabelInterface, e2eInterface)
			base := waitSample(ctx, t, papi, gauge)
			live := fmt.Sprintf(`%s{%s=%q,%s="0.99"}`, conventions.RuleLatencyQuantile("5m"),
				conventions.LabelInterface, e2eInterface, conventions.LabelQuantile)
			p99 := waitSample(ctx, t, papi, live)
			t.Logf("baseline p99 %.1f ms, first live p99 %.1f ms, threshold %.1f ms", base*1000, p99*1000, base*(1+e2eTolerance)*1000)

			if tc.fires {
				for n := 0; n == 0; n = amAlerts(ctx, t, am.URL, conventions.AlertLatencyAboveBaseline) {
					if ctx.Err() != nil {
						t.Fatalf("no %s arrived in Alertmanager; Prometheus alerts: %s",
							conventions.AlertLatencyAboveBaseline, e2eGet(t, prom.URL+"/api/v1/alerts"))
					}
					time.Sleep(500 * time.Millisecond)
				}
				t.Logf("alert in Alertmanager %s after the run started", time.Since(run.started).Round(time.Second))
			}
			if err := run.wait(ctx); err != nil {
				t.Fatalf("perfbase run: %v", err)
			}
			logRatio(ctx, t, papi, live, gauge)
			if tc.fires {
				return
			}

			// The run is over: its steady stage gave the rule many times
			// `for` worth of evaluations. ALERTS has a sample for every
			// evaluation at which the alert was pending or firing.
			evals := queryVector(ctx, t, papi, fmt.Sprintf(`count_over_time(%s[5m])`, live))
			if want := 2 * float64(e2eFor/e2eEval); len(evals) != 1 || float64(evals[0].Value) < want {
				t.Fatalf("live p99 recorded at %v evaluations, want one series with >= %g", evals, want)
			}
			if v := queryVector(ctx, t, papi, fmt.Sprintf(`count_over_time(ALERTS{alertname=%q}[5m])`, conventions.AlertLatencyAboveBaseline)); len(v) != 0 {
				t.Fatalf("healthy run: %s was pending or firing: %v", conventions.AlertLatencyAboveBaseline, v)
			}
			if n := amAlerts(ctx, t, am.URL, conventions.AlertLatencyAboveBaseline); n != 0 {
				t.Fatalf("healthy run sent %d latency alerts to Alertmanager", n)
			}
			if other := e2eGet(t, am.URL+"/api/v2/alerts"); other != "[]\n" && other != "[]" {
				t.Logf("other alerts in Alertmanager (not asserted): %s", other)
			}
		})
	}
}

// healthyBaseline models the healthy demo target's endpoint at path as a
// baseline: its latency is log-normal, so quantile q is
// median x exp(sigma x z_q), with z_q the standard normal quantile.
func healthyBaseline(t *testing.T, iface, path string) *analyzer.Baseline {
	t.Helper()
	var e *demotarget.Endpoint
	for _, ep := range demotarget.Endpoints() {
		if ep.Path == path {
			e = &ep
		}
	}
	if e == nil {
		t.Fatalf("demo target has no endpoint %s", path)
	}
	q := func(p float64) float64 {
		return e.Median.Seconds() * math.Exp(e.Sigma*math.Sqrt2*math.Erfinv(2*p-1))
	}
	end := time.Now().UTC().Truncate(time.Hour)
	return &analyzer.Baseline{
		Version: analyzer.BaselineVersion, Created: end, Timezone: "UTC",
		Source: analyzer.Source{Kind: analyzer.SourceRun, RunID: "healthy-demo-target", Start: end.Add(-time.Hour), End: end},
		Interfaces: []analyzer.BaselineInterface{{
			Name: iface, Requests: 100000,
			Metrics: map[string]float64{
				conventions.BaselineLatencyP50:    q(0.5),
				conventions.BaselineLatencyP90:    q(0.9),
				conventions.BaselineLatencyP95:    q(0.95),
				conventions.BaselineLatencyP99:    q(0.99),
				conventions.BaselineSystemSuccess: 1 - e.SystemErrorRate,
				// Business success counts among the answers the system got right.
				conventions.BaselineBusinessSuccess: 1 - e.BusinessErrorRate/(1-e.SystemErrorRate),
			},
		}},
	}
}

// cliProc is a perfbase process started by startCLI.
type cliProc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error
}

// wait returns the process' exit error once it has ended, or ctx's.
func (p *cliProc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("still running: %w", ctx.Err())
	}
}

// startCLI starts the perfbase binary with args. At cleanup a process still
// running is interrupted, then killed; its output is logged if the test
// failed.
func startCLI(t *testing.T, bin string, args ...string) *cliProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), args[0]+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &cliProc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		_ = logf.Close() // only read to explain a failure
		t.Fatalf("start perfbase %s: %v", args[0], err)
	}
	p.started = time.Now()
	go func() {
		p.err = p.cmd.Wait()
		_ = logf.Close() // only read to explain a failure
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(os.Interrupt)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("perfbase %s output:\n%s", strings.Join(args, " "), out)
		}
	})
	return p
}

// waitHTTP polls u until it answers 200.
func waitHTTP(ctx context.Context, t *testing.T, u string) {
	t.Helper()
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("%s never answered 200: %v", u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func promAPI(t *testing.T, promURL string) v1.API {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: promURL})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(c)
}

// queryVector runs an instant query that must return a vector.
func queryVector(ctx context.Context, t *testing.T, papi v1.API, q string) model.Vector {
	t.Helper()
	v, _, _, err := papi.Query(ctx, q, time.Now())
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		t.Fatalf("query %s: got %s, want a vector", q, v.Type())
	}
	return vec
}

// waitSample polls an instant query until it returns one finite sample.
func waitSample(ctx context.Context, t *testing.T, papi v1.API, q string) float64 {
	t.Helper()
	for {
		v := queryVector(ctx, t, papi, q)
		if len(v) == 1 && !math.IsNaN(float64(v[0].Value)) {
			return float64(v[0].Value)
		}
		if ctx.Err() != nil {
			t.Fatalf("query %s never returned one sample; last answer: %v", q, v)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// logRatio logs the highest live/baseline ratio the rules have seen.
func logRatio(ctx context.Context, t *testing.T, papi v1.API, live, gauge string) {
	t.Helper()
	q := fmt.Sprintf(`max_over_time((%s / on (%s) %s)[5m:1s])`, live, conventions.LabelInterface, gauge)
	if v := queryVector(ctx, t, papi, q); len(v) == 1 {
		t.Logf("highest live p99 / baseline p99 over the run: %.2f (alert above %g)", float64(v[0].Value), 1+e2eTolerance)
	}
}

// amAlerts counts the active alerts named name in Alertmanager.
func amAlerts(ctx context.Context, t *testing.T, amURL, name string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		amURL+"/api/v2/alerts?filter="+url.QueryEscape(fmt.Sprintf("alertname=%q", name)), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
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
		if a.Labels[conventions.LabelInterface] != e2eInterface || a.Labels[conventions.LabelSeverity] == "" {
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
