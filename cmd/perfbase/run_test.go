package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/internal/testservers"
	"github.com/perfbase/perfbase/loader"
)

const twoInterfaces = `name: e2e
target: TARGET
defaults:
  timeout: 2s
  expect: {status: [200], business: {json: code, equals: "0000"}}
interfaces:
  - {name: query_balance, path: /api/balance}
  - {name: recharge, method: POST, path: /api/recharge, body: '{"amount":10}'}
mix: {query_balance: 3, recharge: 1}
stages:
  - {duration: 500ms, rate: 40, warmup: true}
  - {duration: 2s, rate: 100}
`

func readSummary(t *testing.T, path string) loader.Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s loader.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary JSON: %v\n%s", err, b)
	}
	return s
}

// checkCounts asserts that the exported counters add up and equal the
// summary: scheduled = success + business_failure + system_failure + dropped.
func checkCounts(t *testing.T, sum loader.Summary, requests map[string]map[string]float64, scheduled, dropped map[string]float64) {
	t.Helper()
	for _, is := range sum.Interfaces {
		r := requests[is.Name]
		got := r[conventions.OutcomeSuccess] + r[conventions.OutcomeBusinessFailure] + r[conventions.OutcomeSystemFailure] + dropped[is.Name]
		if got != scheduled[is.Name] {
			t.Errorf("%s: exported success+business+system+dropped = %g, scheduled = %g", is.Name, got, scheduled[is.Name])
		}
		if scheduled[is.Name] != float64(is.Scheduled) || r[conventions.OutcomeSuccess] != float64(is.Success) ||
			r[conventions.OutcomeBusinessFailure] != float64(is.BusinessFailure) || r[conventions.OutcomeSystemFailure] != float64(is.SystemFailure) ||
			dropped[is.Name] != float64(is.Dropped) {
			t.Errorf("%s: exported %v scheduled %g dropped %g; summary %+v", is.Name, r, scheduled[is.Name], dropped[is.Name], is)
		}
	}
}

func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	target, _, hits := demoTarget(t)
	scen := writeScenario(t, target.URL, twoInterfaces)
	addr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	sumPath := filepath.Join(t.TempDir(), "summary.json")

	// Scrape while the run lingers, as Prometheus would, until the run's
	// end timestamp shows: that scrape is the run's final state.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	final := scrapeFinal(ctx, addr, "e2e-1")
	dataDir := filepath.Join(t.TempDir(), "data")
	code, stdout, stderr := perfbase(t, "run", "--run-id", "e2e-1", "--listen", addr, "--linger", "3s",
		"--summary-json", sumPath, "--progress", "plain", "--data-dir", dataDir, scen)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	text, ok := <-final
	if !ok {
		t.Fatal("no scrape showed the run's end while it lingered")
	}
	sum := readSummary(t, sumPath)
	v := exposition(t, text)
	requests := map[string]map[string]float64{}
	for _, name := range []string{"query_balance", "recharge"} {
		requests[name] = sumBy(v, conventions.MetricRequestsTotal, conventions.LabelOutcome, map[string]string{conventions.LabelInterface: name})
	}
	checkCounts(t, sum, requests,
		sumBy(v, conventions.MetricRequestsScheduled, conventions.LabelInterface, nil),
		sumBy(v, conventions.MetricRequestsDropped, conventions.LabelInterface, nil))
	// 3:1 of 40/s for 0.5s and of 100/s for 2s.
	want := map[string]uint64{"query_balance": 15 + 150, "recharge": 5 + 50}
	var total uint64
	for _, is := range sum.Interfaces {
		if is.Scheduled != want[is.Name] {
			t.Errorf("%s: scheduled %d, want %d", is.Name, is.Scheduled, want[is.Name])
		}
		total += is.Success + is.BusinessFailure + is.SystemFailure
	}
	if int64(total) != hits.Load() {
		t.Errorf("summary counts %d completed requests, the target saw %d", total, hits.Load())
	}
	if !strings.Contains(stdout, "PASSED") {
		t.Errorf("summary table does not say PASSED:\n%s", stdout)
	}
	// The embedded store holds the same counts: perfbase query prints them.
	checkStore(t, dataDir, "e2e-1", sum)
	if !strings.Contains(stderr, "progress") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
}

func TestRunBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	target, _, hits := demoTarget(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := busy.Close(); err != nil {
			t.Error(err)
		}
	})
	good := writeScenario(t, target.URL, twoInterfaces)
	locked := filepath.Join(t.TempDir(), "locked")
	db, err := store.Open(locked, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown key", []string{writeScenario(t, target.URL, twoInterfaces+"colour: blue\n")}, "colour"},
		{"zero rate", []string{writeScenario(t, target.URL, strings.Replace(twoInterfaces, "rate: 100", "rate: 0", 1))}, "rate"},
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.yml")}, "nope.yml"},
		{"port in use", []string{"--listen", busy.Addr().String(), good}, busy.Addr().String()},
		{"bad shard", []string{"--shard", "4/3", good}, "shard"},
		{"bad run id", []string{"--run-id", "a b", good}, "run-id"},
		{"bad push url", []string{"--push-url", "ftp://x", good}, "push"},
		{"store in use", []string{"--data-dir", locked, good}, "in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"run", "--listen", "", "--data-dir", dataDir}, tc.args...)
			if tc.name == "port in use" {
				args = append([]string{"run", "--data-dir", dataDir}, tc.args...)
			}
			code, _, stderr := perfbase(t, args...)
			if code != exitBadInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitBadInput, stderr)
			}
			if !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("stderr does not name %q:\n%s", tc.wantErr, stderr)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}

func TestRunThresholdFailureExitsOne(t *testing.T) {
	t.Parallel()
	target, demo, _ := demoTarget(t)
	if err := demo.Degrade(demoDegradation(10)); err != nil {
		t.Fatal(err)
	}
	scen := writeScenario(t, target.URL, twoInterfaces+"thresholds:\n  query_balance: {p99: 5ms}\n")
	code, stdout, stderr := perfbase(t, "run", "--listen", "", "--progress", "off", "--no-store", scen)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
	}
	if !strings.Contains(stderr, "query_balance p99") || !strings.Contains(stdout, "FAILED") {
		t.Errorf("the failed threshold is not named:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

// TestRunInterruptKeepsEverything sends SIGINT to a real perfbase process in
// the middle of a run: it stops at once, and the summary and metrics
// account for every scheduled request.
func TestRunInterruptKeepsEverything(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	target, _, hits := demoTarget(t)
	scen := writeScenario(t, target.URL, strings.Replace(twoInterfaces, "duration: 2s", "duration: 60s", 1))
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dataDir := filepath.Join(t.TempDir(), "data")
	addr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	// A --linger far longer than the test's deadline: only the second
	// Ctrl-C can end it in time.
	cmd := exec.CommandContext(ctx, bin, "run", "--run-id", "int-1", "--listen", addr, "--linger", "10m", "--progress", "off",
		"--summary-json", sumPath, "--data-dir", dataDir, scen)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for hits.Load() < 50 && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	final := scrapeFinal(ctx, addr, "int-1")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// After Ctrl-C the final state is still served, for the last scrape.
	if _, ok := <-final; !ok {
		t.Errorf("metrics not served after SIGINT\nstderr:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, exitInterrupted, stdout.String(), stderr.String())
	}
	sum := readSummary(t, sumPath)
	if !sum.Interrupted {
		t.Error("summary does not say interrupted")
	}
	var completed uint64
	for _, is := range sum.Interfaces {
		if got := is.Success + is.BusinessFailure + is.SystemFailure + is.Dropped; got != is.Scheduled {
			t.Errorf("%s: success+business+system+dropped = %d, scheduled = %d", is.Name, got, is.Scheduled)
		}
		completed += is.Success + is.BusinessFailure + is.SystemFailure
	}
	if int64(completed) != hits.Load() {
		t.Errorf("summary counts %d completed requests, the target saw %d", completed, hits.Load())
	}
	if sum.Duration > 30 {
		t.Errorf("run went on for %.0fs after SIGINT", sum.Duration)
	}
	checkStore(t, dataDir, "int-1", sum)
}

// checkStore asserts that `perfbase query` on the run's embedded store
// prints the summary's counts.
func checkStore(t *testing.T, dataDir, runID string, sum loader.Summary) {
	t.Helper()
	got := map[string]map[string]float64{}
	scheduled, dropped := map[string]float64{}, map[string]float64{}
	for _, q := range []struct {
		metric string
		by     string
	}{
		{conventions.MetricRequestsTotal, "interface, outcome"},
		{conventions.MetricRequestsScheduled, "interface"},
		{conventions.MetricRequestsDropped, "interface"},
	} {
		expr := fmt.Sprintf(`sum by (%s) (%s{run_id=%q})`, q.by, q.metric, runID)
		code, stdout, stderr := perfbase(t, "query", "--data-dir", dataDir, "--format", "json", expr)
		if code != 0 {
			t.Fatalf("query %s: exit %d\n%s", expr, code, stderr)
		}
		var res struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("query %s: %v\n%s", expr, err, stdout)
		}
		for _, r := range res.Result {
			var v float64
			if _, err := fmt.Sscan(r.Value[1].(string), &v); err != nil {
				t.Fatalf("query %s: value %v: %v", expr, r.Value, err)
			}
			iface := r.Metric[conventions.LabelInterface]
			switch q.metric {
			case conventions.MetricRequestsTotal:
				if got[iface] == nil {
					got[iface] = map[string]float64{}
				}
				got[iface][r.Metric[conventions.LabelOutcome]] = v
			case conventions.MetricRequestsScheduled:
				scheduled[iface] = v
			default:
				dropped[iface] = v
			}
		}
	}
	checkCounts(t, sum, got, scheduled, dropped)
}

// TestRunNeverShowsSecrets: a token in a header and a password in the
// target URL appear nowhere in what perfbase prints, serves or stores.
func TestRunNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	target, _, hits := demoTarget(t)
	withPassword := strings.Replace(target.URL, "http://", "http://loader:pa55word-xyz@", 1)
	scen := writeScenario(t, withPassword, `name: secrets
target: TARGET
defaults:
  headers: {Authorization: "Bearer t0ken-xyz", X-Api-Key: "k3y-xyz"}
interfaces: [{name: query_balance, path: /api/balance}]
stages: [{duration: 1s, rate: 20}]
`)
	addr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	final := scrapeFinal(ctx, addr, "secrets-1")
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := perfbase(t, "--log-level", "debug", "run", "--run-id", "secrets-1", "--listen", addr, "--linger", "2s",
		"--no-store", "--progress", "plain", "--summary-json", sumPath, scen)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if hits.Load() == 0 {
		t.Fatal("no request reached the target")
	}
	exposed := <-final
	summary, _ := os.ReadFile(sumPath)
	for what, text := range map[string]string{"stdout": stdout, "stderr": stderr, "metrics": exposed, "summary JSON": string(summary)} {
		for _, secret := range []string{"t0ken-xyz", "k3y-xyz", "pa55word-xyz"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows the secret %q", what, secret)
			}
		}
	}
	if !strings.Contains(stderr, "run started") {
		t.Errorf("the log was not checked: no start line in\n%s", stderr)
	}
}
