// Package notify posts the regressions of a perfbase report to
// Alertmanager (its v2 API), one alert per regressed interface and metric,
// so reports made in CI or nightly reach the same routes as live alerts.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/render"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Alert is one alert as the Alertmanager v2 API takes it (POST /api/v2/alerts).
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// AlertTTL is how long a posted regression stays firing unless posted
// again: a day, so the next daily or CI report renews or lets it resolve.
const AlertTTL = 24 * time.Hour

// RegressionAlerts builds one Alertmanager alert per regressed metric.
// Severity is critical when the change is more than three tolerances.
func RegressionAlerts(r *analyzer.Report, now time.Time) []Alert {
	var out []Alert
	for _, reg := range r.Regressions() {
		m := reg.Result
		tol := r.Settings.LatencyTolerance
		switch {
		case render.IsRatioKey(reg.Metric):
			tol = r.Settings.SuccessTolerance
		case reg.Metric == c.BaselineThroughput:
			tol = r.Settings.ThroughputTolerance
		}
		sev := c.SeverityWarning
		if math.Abs(float64(m.Change)) > 3*tol {
			sev = c.SeverityCritical
		}
		out = append(out, Alert{
			Labels: map[string]string{
				"alertname": c.AlertRegression, c.LabelInterface: reg.Interface, c.LabelMetric: reg.Metric,
				c.LabelSeverity: sev, "month": r.Month,
			},
			Annotations: map[string]string{
				"summary": fmt.Sprintf("%s %s regressed in %s: %s -> %s (%s)", reg.Interface, reg.Metric, r.Month,
					render.Value(reg.Metric, m.Baseline), render.Value(reg.Metric, m.Current), render.Change(reg.Metric, m.Change)),
				"baseline":        fmt.Sprint(float64(m.Baseline)),
				"current":         fmt.Sprint(float64(m.Current)),
				"change":          fmt.Sprint(float64(m.Change)),
				"p_value":         fmt.Sprint(float64(m.PValue)),
				"q_value":         fmt.Sprint(float64(m.QValue)),
				"test":            m.Test,
				"baseline_source": r.Baseline.String(),
			},
			StartsAt: now.UTC(), EndsAt: now.Add(AlertTTL).UTC(),
		})
	}
	return out
}

// Alertmanager posts every regression of r to the Alertmanager at baseURL
// (its /api/v2/alerts endpoint) with client, which carries the auth and
// TLS of the user's http_config. It posts nothing when nothing regressed
// and returns how many alerts it sent.
func Alertmanager(ctx context.Context, client *http.Client, baseURL string, r *analyzer.Report, now time.Time) (int, error) {
	alerts := RegressionAlerts(r, now)
	if len(alerts) == 0 {
		return 0, nil
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return 0, fmt.Errorf("could not encode alerts: %w", err)
	}
	url := strings.TrimRight(baseURL, "/") + "/api/v2/alerts"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("could not post alerts to Alertmanager: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("could not post alerts to Alertmanager: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("alertmanager refused %d alerts: %s: %s", len(alerts), resp.Status, strings.TrimSpace(string(msg)))
	}
	return len(alerts), nil
}
