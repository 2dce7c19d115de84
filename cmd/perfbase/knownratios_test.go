package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

// TestRunKnownFailureRatios is the load driver's acceptance test: a
// 2-interface mixed run at 200 req/s each for 5 s against
// `perfbase demo-target --business-failure-ratio 0.1 --system-failure-ratio 0.05`
// reports about 1000 requests each, with both ratios within two points of
// the configured ones, and the exposition (which promtool accepts) agrees
// with the summary.
func TestRunKnownFailureRatios(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	targetAddr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	target := exec.CommandContext(ctx, bin, "demo-target", "--listen", targetAddr, "--latency", "5ms", "--jitter", "1ms",
		"--business-failure-ratio", "0.1", "--system-failure-ratio", "0.05")
	var targetLog bytes.Buffer
	target.Stdout, target.Stderr = &targetLog, &targetLog
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Process.Kill(); _ = target.Wait() }() // killed: its exit status says nothing
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + targetAddr + "/api/balance"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo-target did not start:\n%s", targetLog.String())
		}
	}

	scen := writeScenario(t, "http://"+targetAddr, `name: ratios
target: TARGET
defaults: {expect: {status: [200], business: {json: code, equals: "0000"}}}
interfaces:
  - {name: query_balance, path: /api/balance}
  - {name: recharge, method: POST, path: /api/recharge, body: '{"amount":10}'}
mode: mixed
stages: [{duration: 5s, rate: 400}]
`)
	addr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	final := scrapeFinal(ctx, addr, "ratios-1")
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := perfbase(t, "run", "--run-id", "ratios-1", "--listen", addr, "--linger", "3s", "--no-store",
		"--progress", "off", "--summary-json", sumPath, scen)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	sum := readSummary(t, sumPath)
	for _, is := range sum.Interfaces {
		if is.Scheduled < 990 || is.Scheduled > 1010 {
			t.Errorf("%s: %d scheduled, want about 1000", is.Name, is.Scheduled)
		}
		if d := math.Abs((1 - is.SystemSuccessRatio) - 0.05); d > 0.02 {
			t.Errorf("%s: system failure ratio %.3f, want 0.05 +- 0.02", is.Name, 1-is.SystemSuccessRatio)
		}
		if d := math.Abs((1 - is.BusinessSuccessRatio) - 0.1); d > 0.02 {
			t.Errorf("%s: business failure ratio %.3f, want 0.10 +- 0.02", is.Name, 1-is.BusinessSuccessRatio)
		}
	}
	text, ok := <-final
	if !ok {
		t.Fatal("no scrape showed the run's end while it lingered")
	}
	v := exposition(t, text)
	requests := map[string]map[string]float64{}
	for _, is := range sum.Interfaces {
		requests[is.Name] = sumBy(v, conventions.MetricRequestsTotal, conventions.LabelOutcome, map[string]string{conventions.LabelInterface: is.Name})
	}
	checkCounts(t, sum, requests,
		sumBy(v, conventions.MetricRequestsScheduled, conventions.LabelInterface, nil),
		sumBy(v, conventions.MetricRequestsDropped, conventions.LabelInterface, nil))

	// promtool lints the exposition as Prometheus' own tooling would.
	promtool := testservers.Need(t, "promtool")
	check := exec.CommandContext(ctx, promtool, "check", "metrics")
	check.Stdin = strings.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// scrapeFinal scrapes addr until the run's end timestamp shows, and sends
// that exposition: the run's final state, as the last Prometheus scrape
// during --linger sees it.
func scrapeFinal(ctx context.Context, addr, runID string) <-chan string {
	final := make(chan string, 1)
	go func() {
		defer close(final)
		for ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if bytes.Contains(b, []byte(conventions.MetricRunEnd+`{run_id="`+runID+`"} 1`)) {
				final <- string(b)
				return
			}
		}
	}()
	return final
}
