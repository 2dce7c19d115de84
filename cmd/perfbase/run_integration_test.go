package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

// TestRunScrapedByPrometheus: a real Prometheus scrapes `perfbase run`, and
// PromQL over what it stored gives the summary's counts.
func TestRunScrapedByPrometheus(t *testing.T) {
	t.Parallel()
	target, _, _ := demoTarget(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	prom := testservers.Prometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: perfbase
    static_configs: [{targets: ["%s"]}]
`, addr))
	waitForTarget(t, prom.URL, addr)
	scen := writeScenario(t, target.URL, twoInterfaces)
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := perfbase(t, "run", "--run-id", "prom-1", "--listen", addr, "--linger", "3s",
		"--summary-json", sumPath, "--progress", "off", "--no-store", scen)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	sum := readSummary(t, sumPath)

	client, err := api.NewClient(api.Config{Address: prom.URL})
	if err != nil {
		t.Fatal(err)
	}
	papi := v1.NewAPI(client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	query := func(expr string) map[string]float64 {
		t.Helper()
		v, _, _, err := papi.Query(ctx, expr, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		out := map[string]float64{}
		for _, s := range v.(model.Vector) {
			key := string(s.Metric[conventions.LabelInterface])
			if o, ok := s.Metric[conventions.LabelOutcome]; ok {
				key += "/" + string(o)
			}
			out[key] = float64(s.Value)
		}
		return out
	}
	sel := fmt.Sprintf(`{%s="prom-1"}`, conventions.LabelRunID)
	// The last scrape happened during --linger: the final values are there.
	reqs := query(fmt.Sprintf(`sum by (interface, outcome) (last_over_time(%s%s[1m]))`, conventions.MetricRequestsTotal, sel))
	sched := query(fmt.Sprintf(`sum by (interface) (last_over_time(%s%s[1m]))`, conventions.MetricRequestsScheduled, sel))
	drop := query(fmt.Sprintf(`sum by (interface) (last_over_time(%s%s[1m]))`, conventions.MetricRequestsDropped, sel))
	requests := map[string]map[string]float64{}
	for _, is := range sum.Interfaces {
		requests[is.Name] = map[string]float64{}
		for _, o := range conventions.Outcomes {
			requests[is.Name][o] = reqs[is.Name+"/"+o]
		}
	}
	checkCounts(t, sum, requests, sched, drop)
	// The histogram is usable by histogram_quantile.
	p99 := query(fmt.Sprintf(`histogram_quantile(0.99, sum by (interface, le) (last_over_time(%s_bucket{%s="prom-1",outcome="success",phase="steady"}[1m])))`, conventions.MetricRequestDuration, conventions.LabelRunID))
	for _, is := range sum.Interfaces {
		if p := p99[is.Name]; !(p > 0) || p > 2 {
			t.Errorf("%s: histogram_quantile p99 = %g", is.Name, p)
		}
	}
}

// TestRunPushes pushes a run to a real Pushgateway and a real
// VictoriaMetrics and reads the final counts back from each.
func TestRunPushes(t *testing.T) {
	t.Parallel()
	target, _, _ := demoTarget(t)
	pgw := testservers.Pushgateway(t)
	vm := testservers.VictoriaMetrics(t)
	scen := writeScenario(t, target.URL, twoInterfaces)
	for _, dst := range []struct{ kind, url string }{{"pushgateway", pgw.URL}, {"victoriametrics", vm.URL}} {
		sumPath := filepath.Join(t.TempDir(), "summary.json")
		runID := "push-" + dst.kind
		code, stdout, stderr := perfbase(t, "run", "--run-id", runID, "--listen", "", "--progress", "off", "--no-store",
			"--push-url", dst.url, "--push-kind", dst.kind, "--push-interval", "1s", "--summary-json", sumPath, scen)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", dst.kind, code, stdout, stderr)
		}
		sum := readSummary(t, sumPath)
		var text string
		if dst.kind == "pushgateway" {
			text = get(t, pgw.URL+"/metrics")
		} else {
			// VictoriaMetrics makes the newest rows searchable about a
			// second after they arrive, even after a forced flush.
			var want uint64
			for _, is := range sum.Interfaces {
				want += is.Scheduled
			}
			for deadline := time.Now().Add(15 * time.Second); ; {
				get(t, vm.URL+"/internal/force_flush")
				text = lastSamples(get(t, vm.URL+"/api/v1/export?format=prometheus&match[]="+
					fmt.Sprintf(`{__name__=~"perfbase_requests_.*",run_id="%s"}`, runID)))
				var got float64
				for _, n := range sumBy(exposition(t, text), conventions.MetricRequestsScheduled, conventions.LabelRunID, nil) {
					got += n
				}
				if got == float64(want) || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		v := exposition(t, text)
		match := map[string]string{conventions.LabelRunID: runID}
		requests := map[string]map[string]float64{}
		for _, is := range sum.Interfaces {
			m := map[string]string{conventions.LabelRunID: runID, conventions.LabelInterface: is.Name}
			requests[is.Name] = sumBy(v, conventions.MetricRequestsTotal, conventions.LabelOutcome, m)
		}
		t.Run(dst.kind, func(t *testing.T) {
			checkCounts(t, sum, requests,
				sumBy(v, conventions.MetricRequestsScheduled, conventions.LabelInterface, match),
				sumBy(v, conventions.MetricRequestsDropped, conventions.LabelInterface, match))
		})
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", url, resp.Status, err, b)
	}
	return string(b)
}

// lastSamples keeps the newest sample of each series of a VictoriaMetrics
// export in Prometheus format ("series value timestamp" lines).
func lastSamples(export string) string {
	type sample struct {
		value string
		ts    int64
	}
	last := map[string]sample{}
	var order []string
	for _, line := range strings.Split(export, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		series := strings.Join(f[:len(f)-2], " ")
		ts, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err != nil {
			continue
		}
		if s, ok := last[series]; !ok || ts >= s.ts {
			if !ok {
				order = append(order, series)
			}
			last[series] = sample{f[len(f)-2], ts}
		}
	}
	var b strings.Builder
	for _, series := range order {
		fmt.Fprintf(&b, "%s %s\n", series, last[series].value)
	}
	return b.String()
}

// waitForTarget waits until Prometheus has discovered the scrape target
// (its discovery manager applies new targets every few seconds), so that
// a short run is scraped from its start.
func waitForTarget(t *testing.T, promURL, addr string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if strings.Contains(get(t, promURL+"/api/v1/targets"), `"scrapeUrl":"http://`+addr+`/metrics"`) {
			return
		}
	}
	t.Fatalf("Prometheus did not discover %s within 20s", addr)
}
