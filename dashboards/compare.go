package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// UID of the run comparison dashboard.
const UIDCompare = "perfbase-run-comparison"

// Compare puts two runs side by side. Runs happen at different times, so
// the figures are instant queries over the whole time range ($__range):
// pick a range that covers both runs.
func Compare(o Options) *dashboard.DashboardBuilder {
	runSel := func(run string) string {
		return sel(append([]string{c.LabelInterface, "=~$" + varInterface, c.LabelRunID, "$" + run}, steadyMatcher...)...)
	}
	pair := func(title, description, unit string, expr func(selector string) string) *bargauge.PanelBuilder {
		return bargauge.NewPanelBuilder().
			Title(title).
			Description(description).
			Datasource(ds()).
			Unit(unit).
			WithTarget(instant("A", expr(runSel(varRunA)), "A {{interface}}")).
			WithTarget(instant("B", expr(runSel(varRunB)), "B {{interface}}")).
			Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			ValueMode(common.BarGaugeValueModeColor).
			NamePlacement(common.BarGaugeNamePlacementAuto).
			Sizing(common.BarGaugeSizingAuto).
			ShowUnfilled(true).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
			Legend(legend()).
			Height(8).Span(12)
	}
	quantile := func(q string) func(string) string {
		return func(s string) string {
			return fmt.Sprintf("histogram_quantile(%s, sum by (%s, %s) (increase(%s_bucket%s[$__range])))",
				q, c.LabelInterface, c.LabelLe, c.MetricRequestDuration, s)
		}
	}
	var panels []*bargauge.PanelBuilder
	for _, q := range []struct{ q, name string }{{"0.5", "p50"}, {"0.9", "p90"}, {"0.99", "p99"}} {
		panels = append(panels, pair("Latency "+q.name+": run A vs run B",
			fmt.Sprintf("Steady-phase %s of each interface over the time range, from the buckets of each run.", q.name), "s", quantile(q.q)).Min(0))
	}
	panels = append(panels,
		pair("System success: run A vs run B", "Transport ok and expected HTTP status, over completed requests.", "percentunit",
			func(s string) string { return systemSuccess(s, "$__range") }).Min(0).Max(1).Thresholds(percentThresholds()),
		pair("Business success: run A vs run B", "Business code ok, over requests the system answered.", "percentunit",
			func(s string) string { return businessSuccess(s, "$__range") }).Min(0).Max(1).Thresholds(percentThresholds()),
		pair("Requests: run A vs run B", "Completed steady-phase requests of each run in the time range.", "short",
			func(s string) string {
				return fmt.Sprintf("sum by (%s) (increase(%s%s[$__range]))", c.LabelInterface, c.MetricRequestsTotal, s)
			}).Min(0),
	)
	runs := func(name, label string) *dashboard.QueryVariableBuilder {
		return labelValues(name, c.LabelRunID, label, c.MetricRunInfo, false)
	}
	d := dashboard.NewDashboardBuilder("perfbase / Run comparison").
		Uid(UIDCompare).
		Description("Two perfbase runs side by side, per interface. Set the time range to cover both runs.").
		Tags(o.Tags).
		Editable().
		Time("now-30d", "now").
		Timezone("browser").
		WithVariable(datasourceVariable(o)).
		WithVariable(runs(varRunA, "Run A, usually the reference.")).
		WithVariable(runs(varRunB, "Run B, usually the new run.")).
		WithVariable(interfaceVariable())
	for _, p := range panels {
		d = d.WithPanel(p)
	}
	return d
}
