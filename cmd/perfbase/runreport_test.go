package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/render"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/demotarget"
)

// runScenario is a short pressure test: a warm-up second, then eight
// steady seconds at a rate a busy CI machine keeps up with, recorded with
// one-second windows so that one run can be compared with one other.
const runScenario = `name: pt
target: TARGET
defaults:
  timeout: 2s
  expect: {status: [200], business: {json: code, in: ["0000", "1001", "3003"]}}
interfaces:
  - {name: query_balance, path: /api/balance}
  - {name: recharge, method: POST, path: /api/recharge, body: '{"amount":10}'}
mix: {query_balance: 1, recharge: 1}
stages:
  - {duration: 1s, rate: 40, warmup: true}
  - {duration: 8s, rate: 60}
`

func pressureRun(t *testing.T, scen, dir, id string) {
	t.Helper()
	code, stdout, stderr := perfbase(t, "run", "--run-id", id, "--listen", "", "--progress", "off",
		"--data-dir", dir, "--record-window", "1s", scen)
	if code != 0 {
		t.Fatalf("run %s: exit %d\n%s\n%s", id, code, stdout, stderr)
	}
}

func runReportJSON(t *testing.T, args ...string) (int, analyzer.Report, string) {
	t.Helper()
	code, stdout, stderr := perfbase(t, append([]string{"report", "--format", "json"}, args...)...)
	var rep analyzer.Report
	if code == 0 || code == 1 {
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("report JSON: %v\n%s\n%s", err, stdout, stderr)
		}
	}
	return code, rep, stderr
}

// TestReportRunAgainstRun is the pressure-test workflow end to end: two
// real runs against the demo service, the second after it got 1.5x
// slower, and `perfbase report --run` marks latency regressed with its
// evidence and exits 1; the runs are listed by `perfbase runs`; a run
// frozen with `baseline save --run` serves as --baseline-file.
func TestReportRunAgainstRun(t *testing.T) {
	t.Parallel()
	target, demo, _ := demoTarget(t)
	scen := writeScenario(t, target.URL, runScenario)
	dir := filepath.Join(t.TempDir(), "data")
	pressureRun(t, scen, dir, "before")
	if err := demo.Degrade(demotarget.Degradation{Slowdown: 1.5}); err != nil {
		t.Fatal(err)
	}
	pressureRun(t, scen, dir, "after")

	code, rep, stderr := runReportJSON(t, "--data-dir", dir, "--run", "after", "--baseline-run", "before")
	if code != 1 && code != 0 || rep.Run == nil || rep.Run.RunID != "after" || rep.Unit != analyzer.UnitRuns {
		t.Fatalf("exit %d, run %+v, unit %q\n%s", code, rep.Run, rep.Unit, stderr)
	}
	// The demo service sleeps its latencies: on a busy machine the sleeps
	// overshoot by a few milliseconds, which dilutes a 1.5x slowdown most on
	// the fastest interface (8 ms); recharge (25 ms) must be regressed, and
	// every interface must have risen.
	for _, in := range rep.Interfaces {
		m := in.Metrics[conventions.BaselineLatencyP50]
		t.Logf("%s p50: %s, change %.3f, q %.4f, %s", in.Name, m.Verdict, float64(m.Change), float64(m.QValue), render.Evidence(m))
		if m.Evidence == nil || m.Evidence.CurrentWindows < 4 || float64(m.Change) < 0.15 {
			t.Errorf("%s p50: %s, change %.2f, evidence %+v", in.Name, m.Verdict, float64(m.Change), m.Evidence)
		}
		if in.Name == "recharge" && m.Verdict != analyzer.VerdictRegressed {
			t.Errorf("recharge p50 %s after a 1.5x slowdown", m.Verdict)
		}
	}
	code, stdout, _ := perfbase(t, "report", "--data-dir", dir, "--run", "after", "--baseline-run", "before", "--color", "never")
	if code != 1 || !strings.Contains(stdout, "Evidence (runs):") || !strings.Contains(stdout, "Unit: runs.") {
		t.Errorf("table report (exit %d) lacks the unit or the evidence:\n%s", code, stdout)
	}

	for format, want := range map[string]string{"markdown": "Evidence (runs):", "html": "<th>Evidence</th>"} {
		code, stdout, _ := perfbase(t, "report", "--data-dir", dir, "--run", "after", "--baseline-run", "before", "--format", format)
		if code != 0 && code != 1 || !strings.Contains(stdout, want) || !strings.Contains(stdout, "run after") {
			t.Errorf("%s report (exit %d) lacks %q:\n%.2000s", format, code, want, stdout)
		}
	}

	code, stdout, stderr = perfbase(t, "runs", "--data-dir", dir, "--format", "json")
	var runs []analyzer.RunInfo
	if code != 0 || json.Unmarshal([]byte(stdout), &runs) != nil || len(runs) != 2 || runs[0].RunID != "before" || runs[1].Interfaces != 2 || runs[1].Requests < 400 {
		t.Fatalf("runs: exit %d %+v\n%s", code, runs, stderr)
	}

	file := filepath.Join(t.TempDir(), "before.json")
	if code, stdout, stderr := perfbase(t, "baseline", "save", "--data-dir", dir, "--run", "before", "--out", file); code != 0 {
		t.Fatalf("baseline save --run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, rep, stderr = runReportJSON(t, "--data-dir", dir, "--run", "after", "--baseline-file", file)
	if code != 1 || rep.Baseline.File != file {
		t.Fatalf("against the saved run: exit %d, baseline %+v\n%s", code, rep.Baseline, stderr)
	}

	if code, _, stderr := perfbase(t, "report", "--data-dir", dir, "--run", "nope"); code != 2 || !strings.Contains(stderr, `"nope"`) {
		t.Errorf("unknown run: exit %d, %s", code, stderr)
	}
	if code, _, stderr := perfbase(t, "report", "--data-dir", dir, "--run", "before"); code != 2 || !strings.Contains(stderr, "first recorded run") {
		t.Errorf("first run without a baseline: exit %d, %s", code, stderr)
	}
}

// TestReportRunFalseAlarms runs the unchanged demo service several times
// and compares each run with the one before: an unchanged system must be
// stable. It logs the false-alarm rate over all compared metrics and
// allows at most one comparison in the lot to regress (on a busy machine
// a run can really be slower).
func TestReportRunFalseAlarms(t *testing.T) {
	t.Parallel()
	target, _, _ := demoTarget(t)
	scen := writeScenario(t, target.URL, runScenario)
	dir := filepath.Join(t.TempDir(), "data")
	const n = 6
	for i := range n {
		pressureRun(t, scen, dir, fmt.Sprintf("same-%d", i))
	}
	var regressedReports, metrics, alarms int
	for i := 1; i < n; i++ {
		code, rep, stderr := runReportJSON(t, "--data-dir", dir, "--run", fmt.Sprintf("same-%d", i), "--baseline-run", fmt.Sprintf("same-%d", i-1))
		if code != 0 && code != 1 {
			t.Fatalf("report: exit %d\n%s", code, stderr)
		}
		if code == 1 {
			regressedReports++
		}
		for _, in := range rep.Interfaces {
			for k, m := range in.Metrics {
				if m.Verdict == analyzer.VerdictInsufficient {
					t.Errorf("%s %s: insufficient_data (%s)", in.Name, k, m.Reason)
				}
				metrics++
				if m.Verdict == analyzer.VerdictRegressed {
					alarms++
				}
			}
		}
	}
	t.Logf("unchanged runs: %d of %d reports regressed, %d of %d metric verdicts (%.1f%%)", regressedReports, n-1, alarms, metrics, 100*float64(alarms)/float64(metrics))
	if regressedReports > 1 {
		t.Errorf("%d of %d comparisons of unchanged runs regressed", regressedReports, n-1)
	}
}
