package analyzer

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/analyzer/synth"
	"github.com/perfbase/perfbase/internal/backend"
	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

// TestSameVerdictsOnEveryBackend writes one history into the embedded
// store, a real Prometheus (backfilled with promtool) and a real
// VictoriaMetrics (import API), and expects the same verdicts from all.
func TestSameVerdictsOnEveryBackend(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts Prometheus and VictoriaMetrics")
	}
	promtool := testservers.Need(t, "promtool")
	testservers.Need(t, "prometheus")
	testservers.Need(t, "victoria-metrics")

	feb, report := Month{2025, time.February}, Month{2025, time.April}
	cfg := synth.Config{
		Start: feb.Start(time.UTC), End: report.End(time.UTC), Seed: 21, Weekly: 0.1, MissingDays: 0.05,
		Continuous: true, Interval: 2 * time.Hour,
		Interfaces: []synth.Interface{
			{Name: "steady", RPS: 20, Median: 40 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001},
			{Name: "slow", RPS: 10, Median: 120 * time.Millisecond, Sigma: 0.6, BusinessFailure: 0.005, SystemFailure: 0.001,
				Changes: []synth.Change{{Kind: synth.LatencyStep, At: report.Start(time.UTC), Size: 0.3}}},
			{Name: "shaky", RPS: 15, Median: 80 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.01, SystemFailure: 0.002,
				Changes: []synth.Change{{Kind: synth.SystemDip, At: report.Start(time.UTC), Size: 0.02}}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), testQueryTimeout)
	defer cancel()
	dir := t.TempDir()

	// Prometheus: OpenMetrics file -> promtool blocks -> server on them.
	om := filepath.Join(dir, "history.om")
	f, err := os.Create(om)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.WriteText(f, synth.OpenMetrics); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	blocks := filepath.Join(dir, "prom")
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=1458h", om, blocks).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	prom := testservers.Prometheus(t, "", "--storage.tsdb.path="+blocks)

	// VictoriaMetrics: Prometheus text with millisecond timestamps.
	vm := testservers.VictoriaMetrics(t)
	var text bytes.Buffer
	if err := cfg.WriteText(&text, synth.PrometheusText); err != nil {
		t.Fatal(err)
	}
	post(t, ctx, vm.URL+"/api/v1/import/prometheus", &text)
	post(t, ctx, vm.URL+"/internal/force_flush", nil)

	o := fixedOptions()
	o.BaselineMonths, o.TrendMonths, o.Resolution = 2, 3, 4*time.Hour
	reports := map[string]*Report{}
	db := openStore(t, cfg)
	queriers := map[string]backend.Querier{"embedded": db.Querier()}
	for name, url := range map[string]string{"prometheus": prom.URL, "victoriametrics": vm.URL} {
		r, err := backend.NewRemote(backend.RemoteOptions{URL: url, Timeout: time.Minute, HTTP: config.DefaultHTTPClientConfig})
		if err != nil {
			t.Fatal(err)
		}
		queriers[name] = r
	}
	for name, q := range queriers {
		rep, err := BuildReport(ctx, q, o, BaselineOptions{}, report)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		reports[name] = rep
	}
	ref := reports["embedded"]
	want := map[string]string{"steady": VerdictStable, "slow": VerdictRegressed, "shaky": VerdictRegressed}
	for _, in := range ref.Interfaces {
		if in.Verdict != want[in.Name] {
			t.Errorf("embedded %s: %s, want %s: %s", in.Name, in.Verdict, want[in.Name], summary(metricList(in)))
		}
	}
	for name, rep := range reports {
		if len(rep.Interfaces) != len(ref.Interfaces) {
			t.Errorf("%s: %d interfaces, embedded %d", name, len(rep.Interfaces), len(ref.Interfaces))
			continue
		}
		for i, in := range rep.Interfaces {
			ri := ref.Interfaces[i]
			for _, k := range c.BaselineMetrics {
				m, rm := in.Metrics[k], ri.Metrics[k]
				if m == nil || rm == nil {
					continue
				}
				if m.Verdict != rm.Verdict {
					t.Errorf("%s %s %s: %s, embedded %s\n%s: %s\nembedded: %s", name, in.Name, k, m.Verdict, rm.Verdict,
						name, summary([]*MetricResult{m}), summary([]*MetricResult{rm}))
				}
				// figures agree closely; VictoriaMetrics does not extrapolate
				// increase(), which moves counts by a sample interval's share.
				if d := math.Abs(float64(m.Current)/float64(rm.Current) - 1); d > 0.05 {
					t.Errorf("%s %s %s current %v, embedded %v", name, in.Name, k, float64(m.Current), float64(rm.Current))
				}
			}
		}
	}
}

func post(t *testing.T, ctx context.Context, url string, body *bytes.Buffer) {
	t.Helper()
	var r *http.Request
	var err error
	if body == nil {
		r, err = http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	} else {
		r, err = http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s: %s", url, resp.Status)
	}
}
