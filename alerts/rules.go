package alerts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Group names in the generated rule file.
const (
	GroupRecording  = "perfbase-recording"
	GroupObjectives = "perfbase-objectives"
	GroupAlerts     = "perfbase-alerts"
)

// labeler returns what an annotation shows for a label: a template
// reference in the rule file, the expected value in promtool tests.
type labeler func(label string) string

func templateLabel(l string) string { return "{{ $labels." + l + " }}" }

// Rules builds the rule groups for o.
func Rules(o Options) (rulefmt.RuleGroups, error) {
	if err := o.validate(); err != nil {
		return rulefmt.RuleGroups{}, err
	}
	return rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{
		{Name: GroupRecording, Interval: o.EvaluationInterval, Rules: recordingRules(o)},
		{Name: GroupObjectives, Interval: o.EvaluationInterval, Rules: objectiveRules(o)},
		{Name: GroupAlerts, Interval: o.EvaluationInterval, Rules: alertRules(o, templateLabel)},
	}}, nil
}

func win(d model.Duration) string { return d.String() }

// ratioWindows are the windows of the rate and ratio rules: 5m and 1h for
// dashboards and the latency alert, plus every burn-rate window.
func ratioWindows(o Options) []model.Duration {
	ws := []model.Duration{model.Duration(5 * time.Minute), model.Duration(time.Hour), o.LatencyWindow}
	for _, b := range o.BurnRates {
		ws = append(ws, b.Short, b.Long)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// quantileWindows are the windows of the latency quantile rules.
func quantileWindows(o Options) []model.Duration {
	ws := []model.Duration{model.Duration(5 * time.Minute), model.Duration(time.Hour), o.LatencyWindow}
	slices.Sort(ws)
	return slices.Compact(ws)
}

func record(name, expr string, labels map[string]string) rulefmt.Rule {
	return rulefmt.Rule{Record: name, Expr: expr, Labels: labels}
}

func recordingRules(o Options) []rulefmt.Rule {
	var rs []rulefmt.Rule
	li, lo := c.LabelInterface, c.LabelOutcome
	for _, d := range ratioWindows(o) {
		w := win(d)
		outcomes, completed := c.RuleRequestsOutcomeRate(w), c.RuleRequestsRate(w)
		rs = append(rs,
			record(outcomes, fmt.Sprintf(`sum by (%s, %s) (rate(%s{%s}[%s]))`, li, lo, c.MetricRequestsTotal, c.SteadyMatcher, w), nil),
			record(completed, fmt.Sprintf(`sum by (%s) (%s)`, li, outcomes), nil),
			// "or 0 * completed" gives 0 rather than no series when an
			// interface has had no failure yet.
			record(c.RuleSystemErrorRatio(w), fmt.Sprintf(
				`(sum without (%s) (%s{%s=%q}) or 0 * %s) / (%s > 0)`,
				lo, outcomes, lo, c.OutcomeSystemFailure, completed, completed), nil),
			record(c.RuleBusinessErrorRatio(w), fmt.Sprintf(
				`(sum without (%s) (%s{%s=%q}) or 0 * %s) / (sum without (%s) (%s{%s=~"%s|%s"}) > 0)`,
				lo, outcomes, lo, c.OutcomeBusinessFailure, completed,
				lo, outcomes, lo, c.OutcomeSuccess, c.OutcomeBusinessFailure), nil),
			record(c.RuleSystemSuccessRatio(w), "1 - "+c.RuleSystemErrorRatio(w), nil),
			record(c.RuleBusinessSuccessRatio(w), "1 - "+c.RuleBusinessErrorRatio(w), nil),
			record(c.RuleScheduledRate(w), fmt.Sprintf(`sum by (%s) (rate(%s{%s}[%s]))`, li, c.MetricRequestsScheduled, c.SteadyMatcher, w), nil),
			record(c.RuleDroppedRate(w), fmt.Sprintf(`sum by (%s) (rate(%s{%s}[%s]))`, li, c.MetricRequestsDropped, c.SteadyMatcher, w), nil),
			record(c.RuleDroppedRatio(w), fmt.Sprintf(`%s / (%s > 0)`, c.RuleDroppedRate(w), c.RuleScheduledRate(w)), nil),
		)
	}
	for _, d := range quantileWindows(o) {
		w := win(d)
		for _, key := range latencyKeys() {
			q := quantileOf[key]
			rs = append(rs, record(c.RuleLatencyQuantile(w), fmt.Sprintf(
				`histogram_quantile(%s, sum by (%s, %s) (rate(%s_bucket{%s}[%s])))`,
				q, li, c.LabelLe, c.MetricRequestDuration, c.SteadyMatcher, w), map[string]string{c.LabelQuantile: q}))
		}
	}
	return rs
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// objectiveRules records each interface's success objectives: static ones
// from Options.Objectives, then the served baseline (capped at
// MaxObjective) for every other interface.
func objectiveRules(o Options) []rulefmt.Rule {
	var rs []rulefmt.Rule
	kinds := []struct {
		record, gauge string
		get           func(Objective) float64
	}{
		{c.RuleSystemSuccessObjective, c.BaselineGauge(c.BaselineSystemSuccess), func(ob Objective) float64 { return ob.SystemSuccess }},
		{c.RuleBusinessSuccessObjective, c.BaselineGauge(c.BaselineBusinessSuccess), func(ob Objective) float64 { return ob.BusinessSuccess }},
	}
	for _, k := range kinds {
		var static []string
		for _, ob := range o.Objectives {
			v := k.get(ob)
			if v <= 0 {
				continue
			}
			if ob.Source != c.ObjectiveSourceScenario {
				v = min(v, o.MaxObjective)
			}
			static = append(static, ob.Interface)
			rs = append(rs, record(k.record, fmt.Sprintf("vector(%s)", fmtFloat(v)),
				map[string]string{c.LabelInterface: ob.Interface, c.LabelSource: ob.Source}))
		}
		sel := ""
		if len(static) > 0 {
			sel = fmt.Sprintf(`{%s!~"%s"}`, c.LabelInterface, strings.Join(static, "|"))
		}
		rs = append(rs, record(k.record, fmt.Sprintf(`clamp_max(max by (%s) (%s%s), %s)`,
			c.LabelInterface, k.gauge, sel, fmtFloat(o.MaxObjective)),
			map[string]string{c.LabelSource: c.ObjectiveSourceServed}))
	}
	return rs
}

func (o Options) runbook(alert string) string {
	return o.RunbookURL + "#" + strings.ToLower(alert)
}

func (o Options) alert(name, expr string, forD model.Duration, labels map[string]string, summary, description string) rulefmt.Rule {
	return rulefmt.Rule{
		Alert: name, Expr: expr, For: forD, Labels: labels,
		Annotations: map[string]string{"summary": summary, "description": description, "runbook_url": o.runbook(name)},
	}
}

func percent(f float64) string { return fmtFloat(f*100) + "%" }

// alertRules builds the alerts; lbl renders label references in annotations.
func alertRules(o Options, lbl labeler) []rulefmt.Rule {
	var rs []rulefmt.Rule
	li := c.LabelInterface
	lw := win(o.LatencyWindow)
	for _, key := range o.LatencyQuantiles {
		q := quantileOf[key]
		// One-to-one matching "on (interface)" keeps only that label; the
		// quantile comes back as a rule label.
		rs = append(rs, o.alert(c.AlertLatencyAboveBaseline,
			fmt.Sprintf("%s{%s=%q}\n  > on (%s)\n(%s * max by (%s) (%s))",
				c.RuleLatencyQuantile(lw), c.LabelQuantile, q, li, fmtFloat(1+o.LatencyTolerance), li, c.BaselineGauge(key)),
			o.LatencyFor, map[string]string{c.LabelSeverity: o.LatencySeverity, c.LabelQuantile: q},
			fmt.Sprintf("%s latency %s is more than %s above its baseline", lbl(li), quantileName(key), percent(o.LatencyTolerance)),
			fmt.Sprintf("The %s quantile of %s latency over %s has been above (1 + %s) x %s for %s. Compare the run with the baseline in the perfbase overview dashboard.",
				q, lbl(li), lw, fmtFloat(o.LatencyTolerance), c.BaselineGauge(key), o.LatencyFor)))
	}
	burns := []struct {
		name, kind, errRatio, objective, what string
	}{
		{c.AlertSystemSuccessBurn, "system", "", c.RuleSystemSuccessObjective, "transport errors, timeouts or unexpected HTTP statuses"},
		{c.AlertBusinessSuccessBurn, "business", "", c.RuleBusinessSuccessObjective, "answers whose business code says failed"},
	}
	for _, b := range burns {
		ratio := c.RuleSystemErrorRatio
		if b.kind == "business" {
			ratio = c.RuleBusinessErrorRatio
		}
		for _, br := range o.BurnRates {
			long, short, f := win(br.Long), win(br.Short), fmtFloat(br.Factor)
			expr := fmt.Sprintf("(\n  %s > on (%s) (%s * (1 - %s))\nand on (%s)\n  %s > on (%s) (%s * (1 - %s))\n)",
				ratio(long), li, f, b.objective, li, ratio(short), li, f, b.objective)
			rs = append(rs, o.alert(b.name, expr, 0,
				map[string]string{c.LabelSeverity: br.Severity, c.LabelLongWindow: long, c.LabelShortWindow: short},
				fmt.Sprintf("%s burns its %s success error budget %sx too fast", lbl(li), b.kind, f),
				fmt.Sprintf("Over both the last %s and %s, the %s error ratio of %s (%s) has been above %s times the budget left by its objective (%s).",
					long, short, b.kind, lbl(li), b.what, f, b.objective)))
		}
	}

	dw := win(model.Duration(5 * time.Minute))
	dropExpr := func(sel string, tol float64) string {
		return fmt.Sprintf("%s%s > %s", c.RuleDroppedRatio(dw), sel, fmtFloat(tol))
	}
	var custom []string
	for _, ob := range o.Objectives {
		if ob.MaxDropped > 0 {
			custom = append(custom, ob.Interface)
			rs = append(rs, o.dropAlert(dropExpr(fmt.Sprintf(`{%s=%q}`, li, ob.Interface), ob.MaxDropped), ob.MaxDropped, dw, lbl))
		}
	}
	sel := ""
	if len(custom) > 0 {
		sel = fmt.Sprintf(`{%s!~"%s"}`, li, strings.Join(custom, "|"))
	}
	rs = append(rs, o.dropAlert(dropExpr(sel, o.DropTolerance), o.DropTolerance, dw, lbl))

	rs = append(rs,
		o.alert(c.AlertLoaderDown, fmt.Sprintf(`up{job=%q} == 0`, o.LoaderJob), o.LoaderDownFor,
			map[string]string{c.LabelSeverity: c.SeverityCritical},
			fmt.Sprintf("perfbase loader %s cannot be scraped", lbl("instance")),
			fmt.Sprintf("Prometheus has failed to scrape %s (job %s) for %s: the run's metrics are being lost, or the loader died.",
				lbl("instance"), lbl("job"), o.LoaderDownFor)),
		o.alert(c.AlertRunDataAbsent, fmt.Sprintf(
			"max by (%s, %s) (%s)\n  unless on (%s) %s\n  unless on (%s) (sum by (%s) (rate(%s[%s])) > 0)",
			c.LabelRunID, c.LabelScenario, c.MetricRunInfo,
			c.LabelRunID, c.MetricRunEnd,
			c.LabelRunID, c.LabelRunID, c.MetricRequestsScheduled, dw),
			o.RunDataAbsentFor, map[string]string{c.LabelSeverity: c.SeverityWarning},
			fmt.Sprintf("run %s of %s schedules no requests", lbl(c.LabelRunID), lbl(c.LabelScenario)),
			fmt.Sprintf("Run %s has started and not ended, but has scheduled no request for %s: the loader is stuck or the schedule is empty.",
				lbl(c.LabelRunID), o.RunDataAbsentFor)),
		o.alert(c.AlertBaselineMissing, fmt.Sprintf("absent(%s) and on () (count(%s) > 0)", c.MetricBaselineInfo, c.MetricRunInfo),
			o.BaselineMissingFor, map[string]string{c.LabelSeverity: c.SeverityWarning},
			"no perfbase baseline is served while a run is going on",
			fmt.Sprintf("%s is absent: start `perfbase serve --baseline FILE` and scrape it, or %s cannot fire.",
				c.MetricBaselineInfo, c.AlertLatencyAboveBaseline)),
	)
	return rs
}

func (o Options) dropAlert(expr string, tol float64, w string, lbl labeler) rulefmt.Rule {
	return o.alert(c.AlertLoadNotReached, expr, o.DropFor, map[string]string{c.LabelSeverity: c.SeverityWarning},
		fmt.Sprintf("%s load not reached: over %s of scheduled requests dropped", lbl(c.LabelInterface), percent(tol)),
		fmt.Sprintf("Over the last %s more than %s of the requests scheduled for %s could not be sent on time. The loader is short of connections or CPU, or the target is too slow for the open-loop rate: the measured latency understates the real one.",
			w, percent(tol), lbl(c.LabelInterface)))
}

// quantileName turns latency_p99_seconds into p99.
func quantileName(key string) string {
	return strings.TrimSuffix(strings.TrimPrefix(key, "latency_"), "_seconds")
}
