package dashboards

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Options configure the generated dashboards.
type Options struct {
	// DatasourceUID preselects a Prometheus data source; empty leaves the
	// data source variable on Grafana's default.
	DatasourceUID string
	// Tags are added to every dashboard.
	Tags []string
}

// DefaultOptions returns the options the CLI starts from.
func DefaultOptions() Options { return Options{Tags: []string{"perfbase"}} }

var uidPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)

func (o Options) validate() error {
	var errs []error
	if o.DatasourceUID != "" && !uidPattern.MatchString(o.DatasourceUID) {
		errs = append(errs, fmt.Errorf("dashboards: DatasourceUID: %q is not a Grafana UID (letters, digits, - and _, at most 40)", o.DatasourceUID))
	}
	for i, t := range o.Tags {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, fmt.Errorf("dashboards: Tags[%d]: empty tag", i))
		}
	}
	return errors.Join(errs...)
}

// Variable names shared by the dashboards.
const (
	varDatasource = "datasource"
	varInterface  = "interface"
	varRunID      = "run_id"
	varRunA       = "run_a"
	varRunB       = "run_b"
)

// ds is the panel and query data source: whatever the variable selects.
func ds() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + varDatasource + "}")}
}

func datasourceVariable(o Options) *dashboard.DatasourceVariableBuilder {
	v := dashboard.NewDatasourceVariableBuilder(varDatasource).
		Label("Data source").
		Description("Prometheus (or VictoriaMetrics) holding perfbase metrics.").
		Type("prometheus")
	if o.DatasourceUID != "" {
		v = v.Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(o.DatasourceUID)},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(o.DatasourceUID)},
		})
	}
	return v
}

// labelValues is a query variable listing the values of label on metric.
func labelValues(name, label, description, metricSelector string, multi bool) *dashboard.QueryVariableBuilder {
	q := fmt.Sprintf("label_values(%s, %s)", metricSelector, label)
	v := dashboard.NewQueryVariableBuilder(name).
		Label(strings.ReplaceAll(name, "_", " ")).
		Description(description).
		Datasource(ds()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		v = v.Multi(true).IncludeAll(true).AllValue(".+")
	}
	return v
}

// interfaceVariable lists the interfaces measured in the time range.
func interfaceVariable() *dashboard.QueryVariableBuilder {
	return labelValues(varInterface, c.LabelInterface, "Business interfaces measured in the time range.", c.MetricRequestsTotal, true)
}

// query is a range query with a legend.
func query(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Datasource(ds()).Expr(expr).LegendFormat(legend).Range()
}

// instant is an instant query evaluated at the end of the time range.
func instant(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Datasource(ds()).Expr(expr).LegendFormat(legend).Instant()
}

// sel builds a label selector from pairs; values starting with "=~" or
// "!=" keep their operator.
func sel(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		op := "="
		for _, p := range []string{"=~", "!=", "!~"} {
			if strings.HasPrefix(v, p) {
				op, v = p, strings.TrimPrefix(v, p)
			}
		}
		parts = append(parts, fmt.Sprintf("%s%s%q", k, op, v))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// steadyMatcher leaves warm-up out, as baselines and rules do: sel's
// label-value pair for conventions.SteadyMatcher.
var steadyMatcher = []string{c.SteadyMatcherLabel, c.SteadyMatcherOp + c.SteadyMatcherValue}

// tooltip and legend are set explicitly: left unset, the SDK emits empty
// enum values that the Grafana schema rejects.
func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)
}

func legend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().
		DisplayMode(common.LegendDisplayModeTable).
		Placement(common.LegendPlacementBottom).
		ShowLegend(true).
		Calcs([]string{"mean", "max", "lastNotNull"})
}

// timeseriesPanel is a line chart with the common settings.
func timeseriesPanel(title, description, unit string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(ds()).
		Unit(unit).
		Tooltip(tooltip()).
		Legend(legend()).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Height(9).
		Span(12)
}

func histogramQuantile(q, selector, window string, by ...string) string {
	return fmt.Sprintf("histogram_quantile(%s, sum by (%s) (rate(%s_bucket%s[%s])))",
		q, strings.Join(append(by, c.LabelLe), ", "), c.MetricRequestDuration, selector, window)
}

// Ratio expressions over a window, per interface. Business success is
// success among requests the system answered (success + business_failure),
// as in the run summary.
func systemSuccess(selector string, window string) string {
	return fmt.Sprintf(`sum by (%[1]s) (rate(%[2]s%[3]s[%[4]s])) / sum by (%[1]s) (rate(%[2]s%[5]s[%[4]s]))`,
		c.LabelInterface, c.MetricRequestsTotal, addMatcher(selector, c.LabelOutcome, "=~", c.OutcomeSuccess+"|"+c.OutcomeBusinessFailure), window, selector)
}

func businessSuccess(selector string, window string) string {
	return fmt.Sprintf(`sum by (%[1]s) (rate(%[2]s%[3]s[%[4]s])) / sum by (%[1]s) (rate(%[2]s%[5]s[%[4]s]))`,
		c.LabelInterface, c.MetricRequestsTotal, addMatcher(selector, c.LabelOutcome, "=", c.OutcomeSuccess), window,
		addMatcher(selector, c.LabelOutcome, "=~", c.OutcomeSuccess+"|"+c.OutcomeBusinessFailure))
}

// addMatcher appends one matcher to a {..} selector.
func addMatcher(selector, label, op, value string) string {
	m := fmt.Sprintf("%s%s%q", label, op, value)
	if selector == "{}" || selector == "" {
		return "{" + m + "}"
	}
	return strings.TrimSuffix(selector, "}") + ", " + m + "}"
}

func baselineGauge(key string) string {
	return fmt.Sprintf("max by (%s) (%s%s)", c.LabelInterface, c.BaselineGauge(key), sel(c.LabelInterface, "=~$"+varInterface))
}

func percentThresholds() *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Color: "red"}, {Value: cog.ToPtr(0.99), Color: "orange"}, {Value: cog.ToPtr(0.999), Color: "green"},
	})
}
