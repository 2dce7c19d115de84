package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/backend"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/testservers"
)

// TestRunRecordReachesPrometheus is the documented path for a run that a
// real Prometheus scrapes: `perfbase run --record-url` sends the run's
// record by remote write at the end, and the records read back from that
// Prometheus hold the run's steady-phase counts.
func TestRunRecordReachesPrometheus(t *testing.T) {
	t.Parallel()
	target, _, _ := demoTarget(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	prom := testservers.Prometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: perfbase
    static_configs: [{targets: ["%s"]}]
storage: {tsdb: {out_of_order_time_window: 1d}}
`, addr), "--web.enable-remote-write-receiver")
	scen := writeScenario(t, target.URL, twoInterfaces)
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	for _, id := range []string{"prom-rec-0", "prom-rec-1"} {
		code, stdout, stderr := perfbase(t, "run", "--run-id", id, "--listen", addr, "--linger", "2s",
			"--summary-json", sumPath, "--progress", "off", "--no-store", "--record-window", "1s",
			"--record-url", prom.URL+"/api/v1/write", scen)
		if code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	}
	sum := readSummary(t, sumPath)

	be, err := backend.Open(backend.Options{URL: prom.URL, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = be.Close() }()
	exprs, err := runrecord.Query{Range: time.Hour}.Exprs()
	if err != nil {
		t.Fatal(err)
	}
	var ms []model.Matrix
	for _, e := range exprs {
		v, err := be.Query(context.Background(), e, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		ms = append(ms, v.(model.Matrix))
	}
	recs, err := runrecord.Decode(ms...)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Meta.RunID != "prom-rec-1" {
		t.Fatalf("records in Prometheus: %+v", recs)
	}
	if len(recs[1].Interfaces) != len(sum.Interfaces) {
		t.Fatalf("record has %d interfaces, summary %d", len(recs[1].Interfaces), len(sum.Interfaces))
	}
	for _, ir := range recs[1].Interfaces {
		for _, is := range sum.Interfaces {
			if is.Name != ir.Name {
				continue
			}
			// The summary counts warm-up too; the record is the steady phase.
			all := float64(is.Success + is.BusinessFailure + is.SystemFailure)
			if got := ir.Requests.Completed(); got <= 0 || got >= all || got < 0.6*all {
				t.Errorf("%s: record %g completed, summary %g with warm-up", ir.Name, got, all)
			}
			if len(ir.Windows) == 0 {
				t.Errorf("%s: no windows in the record", ir.Name)
			}
		}
	}

	// The pressure-test report of the second run against the first, from
	// what Prometheus holds.
	code, rep, stderr := runReportJSON(t, "--url", prom.URL, "--run", "prom-rec-1", "--baseline-run", "prom-rec-0")
	if code != 0 && code != 1 || rep.Unit != analyzer.UnitRuns || rep.Run == nil || len(rep.Interfaces) != len(sum.Interfaces) {
		t.Fatalf("report --run through Prometheus: exit %d, unit %q\n%s", code, rep.Unit, stderr)
	}
	for _, in := range rep.Interfaces {
		// Two seconds of steady load: latency is decidable from the
		// windows; the success ratios of the smaller interface have too
		// few requests, which the report says.
		if m := in.Metrics["latency_p50_seconds"]; m.Verdict == analyzer.VerdictInsufficient || m.Evidence == nil {
			t.Errorf("%s p50: %s (%s), evidence %+v", in.Name, m.Verdict, m.Reason, m.Evidence)
		}
	}
}
