package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs the README's main command end to end: history, live run
// and report, on an embedded store, with no server.
func TestDemo(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the demo runs a live load test for 14s")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	html := filepath.Join(t.TempDir(), "report.html")
	// The built binary, as a user runs it: under the race detector the
	// history and report take minutes instead of seconds.
	cmd := exec.Command(binary(t), "demo", "--data-dir", dir, "--html", html)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code, stdout, stderr := cmd.ProcessState.ExitCode(), out.String(), errb.String()
	if err != nil && code == 0 {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The injected regression is found, and only it.
	verdicts := regexp.MustCompile(`=> (\w+)\s+(\w+)`).FindAllStringSubmatch(stdout, -1)
	got := map[string]string{}
	for _, v := range verdicts {
		got[v[1]] = v[2]
	}
	want := map[string]string{"query_balance": "stable", "query_bill": "stable", "recharge": "regressed"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: verdict %q, want %q\n%s", k, got[k], v, stdout)
		}
	}
	if !strings.Contains(stdout, "recharge latency_p50_seconds") {
		t.Errorf("no change point for recharge's latency:\n%s", stdout)
	}
	if !strings.Contains(stdout, "PASSED") {
		t.Errorf("the live run did not pass:\n%s", stdout)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("HTML report missing or without charts: %v", err)
	}
	// The live run is in the store next to the history.
	code, stdout, stderr = perfbase(t, "query", "--data-dir", dir, `count(count by (run_id) (perfbase_run_info{scenario="demo"}))`)
	if code != 0 || !strings.Contains(stdout, "1") {
		t.Errorf("live run not found in the demo store: exit %d\n%s%s", code, stdout, stderr)
	}

	// Run again: the demo recreates its own store.
	if code, _, stderr := perfbase(t, "demo", "--data-dir", dir, "--months", "3"); code != exitBadInput || !strings.Contains(stderr, "--months") {
		t.Errorf("--months 3: exit %d, want 2 naming the flag\n%s", code, stderr)
	}
}

func TestDemoNeverWipesOtherData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keep := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := perfbase(t, "demo", "--data-dir", dir)
	if code != exitBadInput || !strings.Contains(stderr, "not made by perfbase demo") {
		t.Errorf("exit %d, want 2 refusing the directory\n%s", code, stderr)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the demo deleted data it did not write: %v", err)
	}
}
