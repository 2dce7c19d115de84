package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// UID of the interface overview dashboard.
const UIDOverview = "perfbase-overview"

const rateWindow = "$__rate_interval"

// Overview is the interface overview: what one run did to each interface,
// measured against the served baseline.
func Overview(o Options) *dashboard.DashboardBuilder {
	run := sel(c.LabelInterface, "=~$"+varInterface, c.LabelRunID, "=~$"+varRunID)
	measured := sel(append([]string{c.LabelInterface, "=~$" + varInterface, c.LabelRunID, "=~$" + varRunID}, steadyMatcher...)...)

	rates := timeseriesPanel("Target vs achieved vs dropped rate",
		"Per interface: the scheduled open-loop rate, the rate of completed requests, and the rate of scheduled requests that could not be sent on time (dropped). Achieved below target with drops means the loader, not the target, set the pace.",
		"reqps").
		WithTarget(query("A", fmt.Sprintf("sum by (%s) (%s%s)", c.LabelInterface, c.MetricTargetRate, run), "target {{interface}}")).
		WithTarget(query("B", fmt.Sprintf("sum by (%s) (rate(%s%s[%s]))", c.LabelInterface, c.MetricRequestsTotal, run, rateWindow), "achieved {{interface}}")).
		WithTarget(query("C", fmt.Sprintf("sum by (%s) (rate(%s%s[%s]))", c.LabelInterface, c.MetricRequestsDropped, run, rateWindow), "dropped {{interface}}")).
		Min(0)

	latency := timeseriesPanel("Latency quantiles vs baseline",
		"p50, p90 and p99 of steady-phase request latency, computed from the histogram buckets; baseline series: the p50 and p99 of the baseline served by `perfbase serve`.",
		"s").
		WithTarget(query("A", histogramQuantile("0.5", measured, rateWindow, c.LabelInterface), "p50 {{interface}}")).
		WithTarget(query("B", histogramQuantile("0.9", measured, rateWindow, c.LabelInterface), "p90 {{interface}}")).
		WithTarget(query("C", histogramQuantile("0.99", measured, rateWindow, c.LabelInterface), "p99 {{interface}}")).
		WithTarget(query("D", baselineGauge(c.BaselineLatencyP50), "baseline p50 {{interface}}")).
		WithTarget(query("E", baselineGauge(c.BaselineLatencyP99), "baseline p99 {{interface}}")).
		Min(0)

	hm := heatmap.NewPanelBuilder().
		Title("Latency distribution").
		Description("Completed steady-phase requests per latency bucket and time step, all selected interfaces together.").
		Datasource(ds()).
		Unit("short").
		WithTarget(prometheus.NewDataqueryBuilder().RefId("A").Datasource(ds()).
			Expr(fmt.Sprintf("sum by (%s) (increase(%s_bucket%s[%s]))", c.LabelLe, c.MetricRequestDuration, measured, rateWindow)).
			Format(prometheus.PromQueryFormatHeatmap).LegendFormat("{{le}}").Range()).
		Calculate(false).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("s").AxisPlacement(common.AxisPlacementLeft)).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
		Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64).Fill("dark-orange")).
		CellValues(heatmap.NewCellValuesBuilder().Unit("short")).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true).ShowColorScale(true)).
		ShowLegend().
		ShowValue(common.VisibilityModeNever).
		Height(9).Span(12)

	success := timeseriesPanel("System vs business success ratio",
		"System success: transport ok and expected HTTP status, over completed requests. Business success: the business code says ok, over requests the system answered. baseline series: the ratios of the served baseline.",
		"percentunit").
		WithTarget(query("A", systemSuccess(measured, rateWindow), "system {{interface}}")).
		WithTarget(query("B", businessSuccess(measured, rateWindow), "business {{interface}}")).
		WithTarget(query("C", baselineGauge(c.BaselineSystemSuccess), "baseline system {{interface}}")).
		WithTarget(query("D", baselineGauge(c.BaselineBusinessSuccess), "baseline business {{interface}}")).
		Max(1).
		Thresholds(percentThresholds()).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeOff))

	failures := timeseriesPanel("Failures by reason",
		"Failed requests per second by interface and bounded reason (timeout, connection_refused, http_5xx, business_code, ...).",
		"reqps").
		WithTarget(query("A", fmt.Sprintf("sum by (%s, %s) (rate(%s%s[%s]))", c.LabelInterface, c.LabelReason, c.MetricFailures, run, rateWindow), "{{interface}} {{reason}}")).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		Min(0)

	inflight := timeseriesPanel("In flight",
		"Requests sent and not yet answered. A rising line at a constant rate means the target is slowing down.",
		"short").
		WithTarget(query("A", fmt.Sprintf("sum by (%s) (%s%s)", c.LabelInterface, c.MetricInFlight, run), "{{interface}}")).
		Min(0)

	return dashboard.NewDashboardBuilder("perfbase / Interface overview").
		Uid(UIDOverview).
		Description("One perfbase run per business interface: load, latency against the baseline, success and failures.").
		Tags(o.Tags).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("30s").
		Time("now-1h", "now").
		Timezone("browser").
		WithVariable(datasourceVariable(o)).
		WithVariable(interfaceVariable()).
		WithVariable(labelValues(varRunID, c.LabelRunID, "Runs that measured the selected interfaces.",
			c.MetricRequestsTotal+sel(c.LabelInterface, "=~$"+varInterface), true)).
		WithRow(dashboard.NewRowBuilder("Load")).
		WithPanel(rates).
		WithPanel(inflight).
		WithRow(dashboard.NewRowBuilder("Latency")).
		WithPanel(latency).
		WithPanel(hm).
		WithRow(dashboard.NewRowBuilder("Success")).
		WithPanel(success).
		WithPanel(failures)
}
