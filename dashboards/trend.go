package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// UID of the monthly trend dashboard.
const UIDTrend = "perfbase-monthly-trend"

// month is the step of the trend panels. Grafana steps are fixed lengths,
// so a point covers the 30 days before it, not a calendar month; the
// analyzer's reports use calendar months.
const month = "30d"

// Trend shows month over month quantiles and success ratios per interface.
func Trend(o Options) *dashboard.DashboardBuilder {
	measured := sel(append([]string{c.LabelInterface, "=~$" + varInterface}, steadyMatcher...)...)
	monthly := func(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
		// Bars, one per 30 days: quantiles come from the buckets summed
		// over the whole step, never from averaged quantiles.
		return p.Interval(month).MaxDataPoints(24).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(60).
			WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
			Span(24)
	}
	quantile := func(q, name string) *timeseries.PanelBuilder {
		p := timeseriesPanel(fmt.Sprintf("Latency %s by month", name),
			fmt.Sprintf("%s of steady-phase latency per interface, from the histogram buckets summed over each 30-day step; baseline series: the served baseline.", name),
			"s").
			WithTarget(query("A", histogramQuantile(q, measured, "$__interval", c.LabelInterface), name+" {{interface}}")).
			Min(0)
		return monthly(p)
	}
	p50 := quantile("0.5", "p50")
	p99 := quantile("0.99", "p99").WithTarget(query("B", baselineGauge(c.BaselineLatencyP99), "baseline p99 {{interface}}"))
	p50 = p50.WithTarget(query("B", baselineGauge(c.BaselineLatencyP50), "baseline p50 {{interface}}"))

	success := monthly(timeseriesPanel("Success ratios by month",
		"System and business success ratios per interface over each 30-day step.",
		"percentunit").
		WithTarget(query("A", systemSuccess(measured, "$__interval"), "system {{interface}}")).
		WithTarget(query("B", businessSuccess(measured, "$__interval"), "business {{interface}}")).
		Max(1).
		Thresholds(percentThresholds()))

	volume := monthly(timeseriesPanel("Requests by month",
		"Completed steady-phase requests per interface in each 30-day step: a month with few requests gives noisy quantiles.",
		"short").
		WithTarget(query("A", fmt.Sprintf("sum by (%s) (increase(%s%s[$__interval]))", c.LabelInterface, c.MetricRequestsTotal, measured), "{{interface}}")).
		Min(0))

	return dashboard.NewDashboardBuilder("perfbase / Monthly trend").
		Uid(UIDTrend).
		Description("Month over month latency quantiles and success ratios per interface.").
		Tags(o.Tags).
		Editable().
		Time("now-1y", "now").
		Timezone("browser").
		WithVariable(datasourceVariable(o)).
		WithVariable(interfaceVariable()).
		WithPanel(p99).
		WithPanel(p50).
		WithPanel(success).
		WithPanel(volume)
}
