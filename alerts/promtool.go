package alerts

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// The types below mirror the `promtool test rules` file format of
// Prometheus 2.42 (cmd/promtool/unittest.go); promtool's own types are not
// importable.

// TestFile is a promtool unit test file.
type TestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	Tests              []TestGroup    `yaml:"tests"`
}

// TestGroup is one set of input series with the alerts and expressions
// checked against them.
type TestGroup struct {
	Interval       model.Duration `yaml:"interval"`
	InputSeries    []Series       `yaml:"input_series"`
	AlertRuleTests []AlertTest    `yaml:"alert_rule_test,omitempty"`
	PromQLTests    []ExprTest     `yaml:"promql_expr_test,omitempty"`
}

// Series is one input series in promtool's expanding notation.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest expects exactly ExpAlerts firing for Alertname at EvalTime.
type AlertTest struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []ExpAlert     `yaml:"exp_alerts"`
}

// ExpAlert is one expected firing alert.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// ExprTest evaluates Expr at EvalTime.
type ExprTest struct {
	Expr       string         `yaml:"expr"`
	EvalTime   model.Duration `yaml:"eval_time"`
	ExpSamples []ExpSample    `yaml:"exp_samples"`
}

// ExpSample is one expected sample of an ExprTest.
type ExpSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// Synthetic identities used by the generated tests.
const (
	testRunID    = "test-run"
	testScenario = "test-scenario"
	testInstance = "127.0.0.1:9090"
	// testBaselineLatency is the served baseline of every latency quantile.
	testBaselineLatency = 0.1
	// perMinute is how many requests each test series completes a minute.
	perMinute = 100000
)

// series formats a selector with sorted labels.
func series(name string, labels map[string]string) string {
	var b strings.Builder
	b.WriteString(name + "{")
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteString("}")
	return b.String()
}

// testFixture is what the generated tests know about the interface they use.
type testFixture struct {
	o         Options
	iface     string
	sysObj    float64 // effective system success objective
	busObj    float64
	maxDrop   float64
	served    bool // objectives come from the served gauges
	minutes   int  // length of each input series
	evalLate  model.Duration
	evalEarly model.Duration
}

func newFixture(o Options) testFixture {
	f := testFixture{o: o, iface: "checkout", sysObj: o.MaxObjective, busObj: o.MaxObjective, maxDrop: o.DropTolerance, served: true}
	if len(o.Objectives) > 0 {
		ob := o.Objectives[0]
		f.iface, f.served = ob.Interface, false
		eff := func(v float64) float64 {
			if v <= 0 {
				f.served = true // this kind falls back to the served gauge
				return o.MaxObjective
			}
			if ob.Source != c.ObjectiveSourceScenario {
				return min(v, o.MaxObjective)
			}
			return v
		}
		f.sysObj, f.busObj = eff(ob.SystemSuccess), eff(ob.BusinessSuccess)
		if ob.MaxDropped > 0 {
			f.maxDrop = ob.MaxDropped
		}
	}
	longestFor := slices.Max([]model.Duration{o.LatencyFor, o.DropFor, o.LoaderDownFor, o.RunDataAbsentFor, o.BaselineMissingFor})
	// Alerts fire once their condition has held for `for`; rates need two
	// scrapes, so evaluate a few minutes after the longest `for`.
	f.evalLate = longestFor + model.Duration(5*time.Minute)
	f.evalEarly = model.Duration(2 * time.Minute)
	f.minutes = int(time.Duration(f.evalLate)/time.Minute) + 5
	return f
}

func (f testFixture) ifaceLabels(extra map[string]string) map[string]string {
	l := map[string]string{c.LabelInterface: f.iface, c.LabelRunID: testRunID, c.LabelPhase: c.PhaseSteady}
	maps.Copy(l, extra)
	return l
}

// counter rises by perMin each minute.
func (f testFixture) counter(perMin int) string {
	return fmt.Sprintf("0+%dx%d", perMin, f.minutes)
}

func (f testFixture) constant(v float64) string {
	return fmt.Sprintf("%sx%d", fmtFloat(v), f.minutes)
}

// traffic returns the request series of a run: total completed requests a
// minute split into system failures, business failures and successes, plus
// scheduled and dropped counters, latency buckets, run info, up and the
// served baseline.
type traffic struct {
	sysFail, busFail int
	dropped          int
	slow             bool // latency far above the baseline
	scheduledFlat    bool // the run schedules nothing
	up               float64
	baseline         bool
}

func (f testFixture) inputs(t traffic) []Series {
	success := perMinute - t.sysFail - t.busFail
	out := []Series{
		{series(c.MetricRequestsTotal, f.ifaceLabels(map[string]string{c.LabelOutcome: c.OutcomeSuccess})), f.counter(success)},
		{series(c.MetricRequestsTotal, f.ifaceLabels(map[string]string{c.LabelOutcome: c.OutcomeBusinessFailure})), f.counter(t.busFail)},
		{series(c.MetricRequestsTotal, f.ifaceLabels(map[string]string{c.LabelOutcome: c.OutcomeSystemFailure})), f.counter(t.sysFail)},
		{series(c.MetricRequestsDropped, f.ifaceLabels(nil)), f.counter(t.dropped)},
	}
	sched := f.counter(perMinute + t.dropped)
	if t.scheduledFlat {
		sched = f.constant(perMinute)
	}
	out = append(out, Series{series(c.MetricRequestsScheduled, f.ifaceLabels(nil)), sched})
	// Latency: every request in (0.05, 0.1] when healthy, quantiles just
	// under the 0.1 s baseline; in (0.2, 0.5] when slow, about 5x above it.
	bounds := []string{"0.05", "0.1", "0.2", "0.5", "+Inf"}
	for i, le := range bounds {
		n := perMinute
		if (t.slow && i < 3) || (!t.slow && i < 1) {
			n = 0
		}
		out = append(out, Series{series(c.MetricRequestDuration+"_bucket", f.ifaceLabels(map[string]string{c.LabelLe: le})), f.counter(n)})
	}
	out = append(out,
		Series{series(c.MetricRunInfo, map[string]string{c.LabelRunID: testRunID, c.LabelScenario: testScenario}), f.constant(1)},
		Series{series("up", map[string]string{"job": f.o.LoaderJob, "instance": testInstance}), f.constant(t.up)},
	)
	if t.baseline {
		out = append(out, Series{series(c.MetricBaselineInfo, map[string]string{"job": "perfbase-serve"}), f.constant(1)})
		for _, key := range latencyKeys() {
			out = append(out, Series{series(c.BaselineGauge(key), map[string]string{c.LabelInterface: f.iface, "job": "perfbase-serve"}), f.constant(testBaselineLatency)})
		}
		for _, key := range []string{c.BaselineSystemSuccess, c.BaselineBusinessSuccess} {
			// 1.0 on purpose: the generated rules must cap it to MaxObjective.
			out = append(out, Series{series(c.BaselineGauge(key), map[string]string{c.LabelInterface: f.iface, "job": "perfbase-serve"}), f.constant(1)})
		}
	}
	return out
}

// healthy is a run every alert must stay quiet on: failures at half the
// error budget, nothing dropped, latency under the baseline.
func (f testFixture) healthy() traffic {
	return traffic{
		sysFail:  int(math.Floor(perMinute * (1 - f.sysObj) / 2)),
		busFail:  int(math.Floor(perMinute * (1 - f.busObj) / 2)),
		up:       1,
		baseline: true,
	}
}

func expected(o Options, name string, values map[string]string, keep func(ruleLabels map[string]string) bool) []ExpAlert {
	var out []ExpAlert
	for _, r := range alertRules(o, func(l string) string { return values[l] }) {
		if r.Alert != name || (keep != nil && !keep(r.Labels)) {
			continue
		}
		labels := map[string]string{}
		maps.Copy(labels, r.Labels)
		out = append(out, ExpAlert{ExpLabels: labels, ExpAnnotations: r.Annotations})
	}
	return out
}

// withLabels adds the labels each firing alert carries from its expression.
func withLabels(as []ExpAlert, l map[string]string) []ExpAlert {
	for i := range as {
		maps.Copy(as[i].ExpLabels, l)
	}
	return as
}

// PromtoolTests builds the unit tests of the rules generated for o, reading
// them from ruleFile (relative to the test file).
func PromtoolTests(o Options, ruleFile string) (TestFile, error) {
	if err := o.validate(); err != nil {
		return TestFile{}, err
	}
	f := newFixture(o)
	iface := map[string]string{c.LabelInterface: f.iface}
	var groups []TestGroup
	quiet := func(name string) AlertTest {
		return AlertTest{EvalTime: f.evalLate, Alertname: name, ExpAlerts: []ExpAlert{}}
	}
	all := []string{c.AlertLatencyAboveBaseline, c.AlertSystemSuccessBurn, c.AlertBusinessSuccessBurn,
		c.AlertLoadNotReached, c.AlertLoaderDown, c.AlertRunDataAbsent, c.AlertBaselineMissing}

	// 1. Healthy: nothing fires; the recording rules give 0, not nothing,
	// for interfaces without failures or drops.
	h := TestGroup{Interval: model.Duration(time.Minute), InputSeries: f.inputs(f.healthy())}
	for _, a := range all {
		h.AlertRuleTests = append(h.AlertRuleTests, quiet(a))
	}
	h.PromQLTests = append(h.PromQLTests, ExprTest{
		Expr: c.RuleDroppedRatio("5m"), EvalTime: f.evalLate,
		ExpSamples: []ExpSample{{Labels: series(c.RuleDroppedRatio("5m"), iface), Value: 0}},
	})
	groups = append(groups, h)

	// 2. Latency far above the baseline: pending first, firing after `for`.
	slow := f.healthy()
	slow.slow = true
	lat := TestGroup{Interval: model.Duration(time.Minute), InputSeries: f.inputs(slow)}
	var latAlerts []ExpAlert
	for _, a := range expected(o, c.AlertLatencyAboveBaseline, iface, nil) {
		latAlerts = append(latAlerts, withLabels([]ExpAlert{a}, iface)...)
	}
	if f.o.LatencyFor > model.Duration(3*time.Minute) {
		lat.AlertRuleTests = append(lat.AlertRuleTests, AlertTest{EvalTime: f.evalEarly, Alertname: c.AlertLatencyAboveBaseline, ExpAlerts: []ExpAlert{}})
	}
	lat.AlertRuleTests = append(lat.AlertRuleTests, AlertTest{EvalTime: f.evalLate, Alertname: c.AlertLatencyAboveBaseline, ExpAlerts: latAlerts})
	groups = append(groups, lat)

	// 3, 4. Error budgets: every request fails, so each burn-rate row whose
	// threshold is under 100% fires, with no `for`.
	for _, kind := range []struct {
		alert string
		obj   float64
		tr    traffic
		ratio func(string) string
	}{
		{c.AlertSystemSuccessBurn, f.sysObj, traffic{sysFail: perMinute, up: 1, baseline: true}, c.RuleSystemErrorRatio},
		{c.AlertBusinessSuccessBurn, f.busObj, traffic{busFail: perMinute, up: 1, baseline: true}, c.RuleBusinessErrorRatio},
	} {
		g := TestGroup{Interval: model.Duration(time.Minute), InputSeries: f.inputs(kind.tr)}
		eval := model.Duration(10 * time.Minute)
		exp := withLabels(expected(o, kind.alert, iface, func(l map[string]string) bool {
			for _, b := range o.BurnRates {
				if l[c.LabelLongWindow] == win(b.Long) && l[c.LabelShortWindow] == win(b.Short) {
					return b.Factor*(1-kind.obj) < 1
				}
			}
			return false
		}), iface)
		g.AlertRuleTests = []AlertTest{{EvalTime: eval, Alertname: kind.alert, ExpAlerts: exp}}
		g.PromQLTests = []ExprTest{{Expr: kind.ratio("5m"), EvalTime: eval,
			ExpSamples: []ExpSample{{Labels: series(kind.ratio("5m"), iface), Value: 1}}}}
		groups = append(groups, g)
	}

	// 5. Load not reached: four times the tolerated share dropped.
	drop := f.healthy()
	drop.dropped = int(math.Ceil(perMinute * min(f.maxDrop*4, 0.9)))
	dg := TestGroup{Interval: model.Duration(time.Minute), InputSeries: f.inputs(drop)}
	dg.AlertRuleTests = []AlertTest{{EvalTime: f.evalLate, Alertname: c.AlertLoadNotReached,
		ExpAlerts: withLabels(expected(o, c.AlertLoadNotReached, iface, nil)[dropRuleIndex(o, f.iface):dropRuleIndex(o, f.iface)+1], iface)}}
	groups = append(groups, dg)

	// 6. Loader down and silent run and no baseline.
	down := f.healthy()
	down.up = 0
	down.scheduledFlat = true
	down.baseline = false
	ug := TestGroup{Interval: model.Duration(time.Minute), InputSeries: f.inputs(down)}
	upLabels := map[string]string{"job": o.LoaderJob, "instance": testInstance}
	runLabels := map[string]string{c.LabelRunID: testRunID, c.LabelScenario: testScenario}
	ug.AlertRuleTests = []AlertTest{
		{EvalTime: f.evalLate, Alertname: c.AlertLoaderDown, ExpAlerts: withLabels(expected(o, c.AlertLoaderDown, upLabels, nil), upLabels)},
		{EvalTime: f.evalLate, Alertname: c.AlertRunDataAbsent, ExpAlerts: withLabels(expected(o, c.AlertRunDataAbsent, runLabels, nil), runLabels)},
		{EvalTime: f.evalLate, Alertname: c.AlertBaselineMissing, ExpAlerts: expected(o, c.AlertBaselineMissing, nil, nil)},
		// Without a baseline the latency alert cannot fire, whatever the latency.
		quiet(c.AlertLatencyAboveBaseline),
	}
	groups = append(groups, ug)

	return TestFile{RuleFiles: []string{ruleFile}, EvaluationInterval: model.Duration(time.Minute), Tests: groups}, nil
}

// dropRuleIndex is the index, among the LoadNotReached rules, of the one
// that applies to iface: its own when it has MaxDropped, else the last.
func dropRuleIndex(o Options, iface string) int {
	i := 0
	for _, ob := range o.Objectives {
		if ob.MaxDropped > 0 {
			if ob.Interface == iface {
				return i
			}
			i++
		}
	}
	return i
}
