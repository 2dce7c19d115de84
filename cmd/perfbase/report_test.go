package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/analyzer/synth"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/internal/testservers"
)

// history is an embedded store with January to April 2025 in which
// "checkout" got 30% slower on 1 April and "balance" did not change.
// Samples are 2 h apart, so commands read it with --resolution 4h.
func history(t *testing.T) string {
	t.Helper()
	historyDir := t.TempDir()
	var historyErr error
	func() {
		cfg := synth.Config{
			Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), Seed: 3, Weekly: 0.1,
			Continuous: true, Interval: 2 * time.Hour, // cheap to write and query; see --resolution below
			Interfaces: []synth.Interface{
				{Name: "balance", RPS: 10, Median: 30 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001},
				{Name: "checkout", RPS: 5, Median: 150 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001,
					Changes: []synth.Change{{Kind: synth.LatencyStep, At: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), Size: 0.3}}},
			},
		}
		db, err := store.Open(historyDir, store.DefaultOptions())
		if err != nil {
			historyErr = err
			return
		}
		defer func() { historyErr = errors.Join(historyErr, db.Close()) }()
		ctx := context.Background()
		bulk, err := db.NewBulk(ctx)
		if err != nil {
			historyErr = err
			return
		}
		if historyErr = cfg.Generate(func(ls labels.Labels, ts int64, v float64) error { return bulk.Append(ctx, ls, ts, v) }); historyErr != nil {
			return
		}
		_, historyErr = bulk.Commit(ctx)
	}()
	if historyErr != nil {
		t.Fatal(historyErr)
	}
	return historyDir
}

func TestReportCommand(t *testing.T) {
	t.Parallel()
	dir := history(t)
	code, out, errOut := perfbase(t, "report", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--month", "2025-04", "--format", "json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (regression)\n%s", code, errOut)
	}
	var rep struct {
		Month      string `json:"month"`
		Interfaces []struct {
			Name    string `json:"name"`
			Verdict string `json:"verdict"`
			Metrics map[string]struct {
				Baseline, Current, Change, PValue *float64
				Verdict                           string
			} `json:"metrics"`
			ChangePoints []json.RawMessage `json:"change_points"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, in := range rep.Interfaces {
		got[in.Name] = in.Verdict
		for _, k := range []string{"latency_p50_seconds", "latency_p99_seconds", "business_success_ratio", "system_success_ratio", "throughput_rps"} {
			if _, ok := in.Metrics[k]; !ok {
				t.Errorf("%s: metric %s missing", in.Name, k)
			}
		}
	}
	if rep.Month != "2025-04" || got["checkout"] != "regressed" || got["balance"] != "stable" {
		t.Fatalf("verdicts %v for %s", got, rep.Month)
	}

	// a saved baseline gives the same verdicts later
	bfile := filepath.Join(t.TempDir(), "q1.json")
	if code, out, errOut := perfbase(t, "baseline", "save", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--before", "2025-04", "--out", bfile); code != 0 {
		t.Fatalf("baseline save: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = perfbase(t, "report", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--month", "2025-04", "--baseline-file", bfile, "--format", "markdown")
	if code != exitFailed || !strings.Contains(out, "| checkout | latency_p99_seconds |") || !strings.Contains(out, "**regressed**") ||
		!strings.Contains(out, "q1.json") {
		t.Fatalf("report with baseline file: exit %d\n%s", code, out)
	}
	// nothing regressed in March: exit 0
	if code, out, errOut := perfbase(t, "report", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--month", "2025-03"); code != 0 {
		t.Fatalf("March: exit %d\n%s%s", code, out, errOut)
	}
	// --output writes the whole report, and a write that fails is an
	// error, never a short file with exit code 0
	outFile := filepath.Join(t.TempDir(), "march.md")
	if code, _, errOut := perfbase(t, "report", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--month", "2025-03", "--format", "markdown", "-o", outFile); code != 0 {
		t.Fatalf("March to %s: exit %d\n%s", outFile, code, errOut)
	}
	if b, err := os.ReadFile(outFile); err != nil || !strings.Contains(string(b), "| balance | latency_p99_seconds |") {
		t.Fatalf("report file: %v\n%s", err, b)
	}
	if _, err := os.Stat("/dev/full"); err == nil { // Linux: every write fails with ENOSPC
		code, _, errOut := perfbase(t, "report", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--month", "2025-03", "--format", "markdown", "-o", "/dev/full")
		if code != exitFailed || !strings.Contains(errOut, "could not write report") {
			t.Fatalf("report to /dev/full: exit %d, want 1 with the write error\n%s", code, errOut)
		}
	}
}

func TestReportBadInput(t *testing.T) {
	t.Parallel()
	dir := history(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"month", []string{"--month", "2025-13"}, `month "2025-13": want YYYY-MM`},
		{"timezone", []string{"--timezone", "Mars/Base"}, "--timezone"},
		{"format", []string{"--format", "pdf"}, "--format"},
		{"baseline file", []string{"--baseline-file", bad}, "unsupported baseline version 9"},
		{"baseline month after", []string{"--month", "2025-03", "--baseline-month", "2025-04"}, "is not before the report month"},
		{"tolerance", []string{"--latency-tolerance", "0"}, "latency tolerance"},
		{"no data dir", []string{"--data-dir", filepath.Join(dir, "nope")}, "no perfbase data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"report", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--month", "2025-04"}, tc.args...)
			code, _, errOut := perfbase(t, args...)
			if code != exitBadInput || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, tc.want, errOut)
			}
		})
	}
}

// TestReportNotifiesAlertmanager posts the regression to a real
// Alertmanager and reads it back from its API.
func TestReportNotifiesAlertmanager(t *testing.T) {
	t.Parallel()
	dir := history(t)
	am := testservers.Alertmanager(t, "route:\n  receiver: none\nreceivers:\n  - name: none\n")
	code, _, errOut := perfbase(t, "report", "--resolution", "4h", "--timeout", "15m", "--data-dir", dir, "--month", "2025-04", "--notify-alertmanager", am.URL)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	q := url.Values{"filter": {`alertname="PerfbaseRegression"`}}
	resp, err := http.Get(am.URL + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		t.Fatal(err)
	}
	metrics := map[string]bool{}
	for _, a := range alerts {
		if a.Labels["interface"] != "checkout" || a.Labels["severity"] == "" || a.Annotations["baseline"] == "" || a.Annotations["p_value"] == "" {
			t.Errorf("unexpected alert %+v", a)
		}
		metrics[a.Labels["metric"]] = true
	}
	if !metrics["latency_p99_seconds"] || !metrics["latency_p50_seconds"] {
		t.Fatalf("alerts %+v lack the latency regressions", alerts)
	}
}
