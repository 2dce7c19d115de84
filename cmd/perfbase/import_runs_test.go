package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/conventions"
)

// writeJTL writes one pressure-test run as JMeter would: 5 minutes at 20
// requests a second per interface, lognormal latencies (median in ms).
func writeJTL(t *testing.T, path string, start time.Time, medians map[string]float64, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("timeStamp,elapsed,label,responseCode,success\n")
	for ms := int64(0); ms < 5*60*1000; ms += 50 {
		for _, label := range []string{"query_bill", "recharge"} {
			el := medians[label] * math.Exp(0.4*rng.NormFloat64())
			fmt.Fprintf(&b, "%d,%d,%s,200,true\n", start.UnixMilli()+ms, int64(math.Round(el)), label)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImportedMonthlyRunsGetLatencyVerdicts: four monthly pressure tests
// imported from JTL, one run a month, the last with recharge 20% slower:
// the monthly report judges the month by runs, finds the step on
// latency, and does not say insufficient_data.
func TestImportedMonthlyRunsGetLatencyVerdicts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for i, month := range []time.Month{time.January, time.February, time.March, time.April} {
		med := map[string]float64{"query_bill": 30, "recharge": 50}
		if month == time.April {
			med["recharge"] *= 1.2
		}
		p := filepath.Join(dir, fmt.Sprintf("pt-2026-%02d.jtl", month))
		writeJTL(t, p, time.Date(2026, month, 10, 9, 0, 0, 0, time.UTC), med, uint64(i+1))
		if code, out, errOut := perfbase(t, "import", "--data-dir", data, "--scenario", "monthly-pt", p); code != 0 {
			t.Fatalf("import %s: exit %d\n%s\n%s", p, code, out, errOut)
		}
	}
	code, stdout, stderr := perfbase(t, "runs", "--data-dir", data, "--until", "2026-05-01", "--format", "json")
	var runs []analyzer.RunInfo
	if code != 0 || json.Unmarshal([]byte(stdout), &runs) != nil || len(runs) != 4 || runs[3].RunID != "pt-2026-04" {
		t.Fatalf("runs: exit %d %s %s", code, stdout, stderr)
	}
	code, rep, stderr := runReportJSON(t, "--data-dir", data, "--month", "2026-04")
	if code != 1 || rep.Unit != analyzer.UnitRuns {
		t.Fatalf("report: exit %d, unit %q (%s)\n%s", code, rep.Unit, rep.UnitReason, stderr)
	}
	for _, in := range rep.Interfaces {
		for _, key := range []string{conventions.BaselineLatencyP50, conventions.BaselineLatencyP90, conventions.BaselineLatencyP99} {
			m := in.Metrics[key]
			want := analyzer.VerdictStable
			if in.Name == "recharge" && key != conventions.BaselineLatencyP99 {
				want = analyzer.VerdictRegressed
			}
			if m.Verdict == analyzer.VerdictInsufficient || key != conventions.BaselineLatencyP99 && m.Verdict != want {
				t.Errorf("%s %s: %s (want %s), change %.3f, %s", in.Name, key, m.Verdict, want, float64(m.Change), m.Reason)
			}
		}
	}
}
