package exporter

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/conventions"
)

func serveBaseline(p99 float64) *analyzer.Baseline {
	return &analyzer.Baseline{
		Version: analyzer.BaselineVersion, Created: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Timezone: "UTC",
		Source: analyzer.Source{Kind: analyzer.SourceMonth, Months: []string{"2026-03"},
			Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		Interfaces: []analyzer.BaselineInterface{
			{Name: "query_balance", Requests: 1000, Metrics: map[string]float64{
				conventions.BaselineLatencyP50: 0.02, conventions.BaselineLatencyP99: p99,
				conventions.BaselineSystemSuccess: 0.999, conventions.BaselineBusinessSuccess: 0.98}},
			{Name: "recharge", Requests: 500, Metrics: map[string]float64{conventions.BaselineLatencyP99: 2 * p99}},
		},
	}
}

func writeServeBaseline(t *testing.T, path string, b *analyzer.Baseline) {
	t.Helper()
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
}

const serveWant = `
# HELP perfbase_baseline_latency_p99_seconds Baseline latency_p99_seconds of each interface, from the served baseline file.
# TYPE perfbase_baseline_latency_p99_seconds gauge
perfbase_baseline_latency_p99_seconds{interface="query_balance"} %s
perfbase_baseline_latency_p99_seconds{interface="recharge"} %s
# HELP perfbase_baseline_last_reload_successful 1 when the last baseline (re)load succeeded, 0 when it failed.
# TYPE perfbase_baseline_last_reload_successful gauge
perfbase_baseline_last_reload_successful %s
# HELP perfbase_baseline_reload_failures_total Baseline reloads that failed; the previous baseline is still served.
# TYPE perfbase_baseline_reload_failures_total counter
perfbase_baseline_reload_failures_total %s
`

func TestServeReload(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "baseline.json")
	writeServeBaseline(t, path, serveBaseline(0.25))
	s, err := NewBaselineServer(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{conventions.BaselineGauge(conventions.BaselineLatencyP99), conventions.MetricBaselineReloadSuccess, conventions.MetricBaselineReloadFailures}
	check := func(step, p99, p99b, ok, failures string) {
		t.Helper()
		want := fmtServeWant(p99, p99b, ok, failures)
		if err := testutil.GatherAndCompare(s.registry, strings.NewReader(want), names...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	check("initial", "0.25", "0.5", "1", "0")

	writeServeBaseline(t, path, serveBaseline(0.3))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	check("after reload", "0.3", "0.6", "1", "0")

	// A broken file keeps the previous baseline and is counted.
	if err := os.WriteFile(path, []byte(`{"version":1,`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("reload accepted a truncated file")
	}
	check("after bad reload", "0.3", "0.6", "0", "1")

	// Lint the exposition like promtool check metrics would.
	problems, err := testutil.GatherAndLint(s.registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if !strings.HasPrefix(p.Metric, conventions.MetricBaselinePrefix) || !strings.Contains(p.Text, "unit") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
	n, err := testutil.GatherAndCount(s.registry, conventions.MetricBaselineInfo, "perfbase_build_info")
	if err != nil || n != 2 {
		t.Fatalf("baseline_info + build_info: %d series (%v), want 2", n, err)
	}
}

func fmtServeWant(p99, p99b, ok, failures string) string {
	out := serveWant
	for _, v := range []string{p99, p99b, ok, failures} {
		out = strings.Replace(out, "%s", v, 1)
	}
	return out
}

// TestServeNoGapDuringReloads scrapes over HTTP while the baseline is
// reloaded (good and bad files alternately): every scrape must carry every
// interface's gauge.
func TestServeNoGapDuringReloads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "baseline.json")
	writeServeBaseline(t, path, serveBaseline(0.25))
	s, err := NewBaselineServer(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	reload := make(chan os.Signal)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l, reload) }()

	url := "http://" + l.Addr().String() + "/metrics"
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 100)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(url)
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				for _, want := range []string{`perfbase_baseline_latency_p99_seconds{interface="query_balance"}`, `perfbase_baseline_latency_p99_seconds{interface="recharge"}`} {
					if !strings.Contains(string(body), want) {
						errs <- "scrape without " + want
						return
					}
				}
			}
		}()
	}
	for i := range 50 {
		tmp := filepath.Join(dir, "next.json")
		if i%5 == 4 {
			if err := os.WriteFile(tmp, []byte("not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			writeServeBaseline(t, tmp, serveBaseline(0.1+float64(i)/100))
		}
		// Replace the file atomically, as an editor or `baseline save` does.
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		_ = s.Reload() // synchronously, so the failure count is exact
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := testutil.ToFloat64(s.failures); got != 10 {
		t.Errorf("reload failures = %g, want 10", got)
	}
	// The signal path: a value on the reload channel reloads the file.
	writeServeBaseline(t, path, serveBaseline(0.77))
	reload <- os.Signal(nil)
	for !strings.Contains(e2eGet(t, url), `perfbase_baseline_latency_p99_seconds{interface="query_balance"} 0.77`) {
		if ctx.Err() != nil {
			t.Fatal("the reload signal did not reload the baseline")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func e2eGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return string(b)
}
