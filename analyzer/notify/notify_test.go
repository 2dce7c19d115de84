package notify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/analyzer"
	c "github.com/perfbase/perfbase/internal/conventions"
)

func report(verdict string, change float64) *analyzer.Report {
	r := &analyzer.Report{Month: "2026-11", Settings: analyzer.Settings{LatencyTolerance: 0.1, SuccessTolerance: 0.001, ThroughputTolerance: 0.1}}
	r.Interfaces = []analyzer.InterfaceReport{{Name: "recharge", Metrics: map[string]*analyzer.MetricResult{
		c.BaselineLatencyP99: {Baseline: 0.1, Current: analyzer.Num(0.1 * (1 + change)), Change: analyzer.Num(change), Verdict: verdict},
	}}}
	return r
}

func TestRegressionAlerts(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		r        *analyzer.Report
		n        int
		severity string
	}{
		{"stable", report(analyzer.VerdictStable, 0.02), 0, ""},
		{"regressed", report(analyzer.VerdictRegressed, 0.2), 1, c.SeverityWarning},
		{"regressed by more than three tolerances", report(analyzer.VerdictRegressed, 0.5), 1, c.SeverityCritical},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := RegressionAlerts(tc.r, now)
			if len(as) != tc.n {
				t.Fatalf("%d alerts, want %d", len(as), tc.n)
			}
			if tc.n == 0 {
				return
			}
			a := as[0]
			if a.Labels[c.LabelSeverity] != tc.severity || a.Labels[c.LabelInterface] != "recharge" || !a.EndsAt.Equal(now.Add(AlertTTL)) {
				t.Errorf("alert %+v", a)
			}
			if !strings.Contains(a.Annotations["summary"], "100ms -> ") {
				t.Errorf("summary %q", a.Annotations["summary"])
			}
		})
	}
}

// TestAlertmanagerUsesHTTPConfig: the client built from an http_config
// carries its credentials, and a refusal is an error naming the status.
func TestAlertmanagerUsesHTTPConfig(t *testing.T) {
	t.Parallel()
	var got []Alert
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/api/v2/alerts" {
			http.NotFound(w, r)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	defer am.Close()
	cfg := config.DefaultHTTPClientConfig
	cfg.Authorization = &config.Authorization{Type: "Bearer", Credentials: "s3cret"}
	client, err := config.NewClientFromConfig(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	r := report(analyzer.VerdictRegressed, 0.3)
	n, err := Alertmanager(t.Context(), client, am.URL+"/", r, time.Now())
	if err != nil || n != 1 || len(got) != 1 || got[0].Labels["alertname"] != c.AlertRegression {
		t.Fatalf("posted %d, %v; received %+v", n, err, got)
	}
	_, err = Alertmanager(t.Context(), http.DefaultClient, am.URL, r, time.Now())
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without credentials: %v, want a 401 error", err)
	}
	if n, err := Alertmanager(t.Context(), http.DefaultClient, "http://127.0.0.1:1", report(analyzer.VerdictStable, 0), time.Now()); n != 0 || err != nil {
		t.Fatalf("nothing regressed: posted %d, %v", n, err)
	}
}
