package conventions

// Recording rules follow the level:metric:operations convention of the
// Prometheus docs: the level names the labels kept by the aggregation, the
// metric the series aggregated, the operations what was applied and over
// which window, e.g. interface:perfbase_requests:rate5m.
//
// Rule names depend on a window, so they are built by functions; the window
// is a Prometheus duration such as "5m" or "1h".

// Levels of the recording rules.
const (
	levelInterface         = "interface"
	levelInterfaceOutcome  = "interface_outcome"
	levelInterfaceQuantile = "interface_quantile"
)

// RuleRequestsRate is the per-interface rate of completed (non warm-up)
// requests per second over window.
func RuleRequestsRate(window string) string {
	return levelInterface + ":perfbase_requests:rate" + window
}

// RuleRequestsOutcomeRate is the per-interface and outcome rate of completed
// requests per second over window.
func RuleRequestsOutcomeRate(window string) string {
	return levelInterfaceOutcome + ":perfbase_requests:rate" + window
}

// RuleScheduledRate is the per-interface rate of scheduled requests.
func RuleScheduledRate(window string) string {
	return levelInterface + ":perfbase_requests_scheduled:rate" + window
}

// RuleDroppedRate is the per-interface rate of dropped requests.
func RuleDroppedRate(window string) string {
	return levelInterface + ":perfbase_requests_dropped:rate" + window
}

// RuleDroppedRatio is dropped / scheduled per interface over window.
func RuleDroppedRatio(window string) string {
	return levelInterface + ":perfbase_requests_dropped:ratio_rate" + window
}

// RuleSystemErrorRatio is system_failure / completed per interface over
// window: the error ratio the system success burn-rate alerts read.
func RuleSystemErrorRatio(window string) string {
	return levelInterface + ":perfbase_system_errors:ratio_rate" + window
}

// RuleBusinessErrorRatio is business_failure / (success + business_failure)
// per interface over window: among requests the system answered, those whose
// business code said failed.
func RuleBusinessErrorRatio(window string) string {
	return levelInterface + ":perfbase_business_errors:ratio_rate" + window
}

// RuleSystemSuccessRatio is 1 - RuleSystemErrorRatio, for dashboards.
func RuleSystemSuccessRatio(window string) string {
	return levelInterface + ":perfbase_system_success:ratio_rate" + window
}

// RuleBusinessSuccessRatio is 1 - RuleBusinessErrorRatio, for dashboards.
func RuleBusinessSuccessRatio(window string) string {
	return levelInterface + ":perfbase_business_success:ratio_rate" + window
}

// RuleLatencyQuantile is the per-interface latency quantile in seconds over
// window, one series per LabelQuantile value.
func RuleLatencyQuantile(window string) string {
	return levelInterfaceQuantile + ":perfbase_request_duration_seconds:quantile_rate" + window
}

// Objectives of the burn-rate alerts: the success ratio each interface must
// keep, from the scenario's thresholds, a baseline file, or the baseline
// gauges of `perfbase serve`.
const (
	RuleSystemSuccessObjective   = levelInterface + ":perfbase_system_success:objective"
	RuleBusinessSuccessObjective = levelInterface + ":perfbase_business_success:objective"
)

// Labels set by rules (not by the exporter).
const (
	// LabelQuantile is the quantile of RuleLatencyQuantile, e.g. "0.99".
	LabelQuantile = "quantile"
	// LabelSeverity routes alerts in Alertmanager.
	LabelSeverity = "severity"
	// LabelLongWindow and LabelShortWindow tell the burn-rate alerts of one
	// name apart by their window pair.
	LabelLongWindow  = "long_window"
	LabelShortWindow = "short_window"
	// LabelSource says where an objective came from (ObjectiveSource*).
	LabelSource = "source"
)

// Severity label values.
const (
	SeverityCritical = "critical" // page someone
	SeverityWarning  = "warning"  // open a ticket
)

// ObjectiveSource* values of LabelSource.
const (
	ObjectiveSourceScenario = "scenario"
	ObjectiveSourceBaseline = "baseline_file"
	ObjectiveSourceServed   = "served_baseline"
)

// Alert names.
const (
	// AlertLatencyAboveBaseline: a latency quantile above the served baseline
	// by more than the tolerance for the configured duration.
	AlertLatencyAboveBaseline = "PerfbaseLatencyAboveBaseline"
	// AlertSystemSuccessBurn: system errors burn the error budget (multiwindow, multi-burn-rate).
	AlertSystemSuccessBurn = "PerfbaseSystemSuccessBudgetBurn"
	// AlertBusinessSuccessBurn: business errors burn the error budget.
	AlertBusinessSuccessBurn = "PerfbaseBusinessSuccessBudgetBurn"
	// AlertLoadNotReached: too many scheduled requests were dropped.
	AlertLoadNotReached = "PerfbaseLoadNotReached"
	// AlertLoaderDown: Prometheus cannot scrape the loader during a run.
	AlertLoaderDown = "PerfbaseLoaderDown"
	// AlertRunDataAbsent: a run started, has not ended, and schedules nothing.
	AlertRunDataAbsent = "PerfbaseRunDataAbsent"
	// AlertBaselineMissing: no baseline is served, so latency cannot be compared.
	AlertBaselineMissing = "PerfbaseBaselineMissing"
)

// Metrics of `perfbase serve` besides the baseline gauges.
const (
	// MetricBaselineReloadFailures counts baseline reloads that failed and
	// kept the previous baseline.
	MetricBaselineReloadFailures = "perfbase_baseline_reload_failures_total"
	// MetricBaselineReloadSuccess is 1 when the last reload succeeded.
	MetricBaselineReloadSuccess = "perfbase_baseline_last_reload_successful"
	// MetricBaselineLoadedAt is when the served baseline was loaded, Unix seconds.
	MetricBaselineLoadedAt = "perfbase_baseline_last_reload_success_timestamp_seconds"
)

// BaselineGauge returns the gauge name `perfbase serve` exposes for a
// BaselineMetrics key, e.g. perfbase_baseline_latency_p99_seconds.
func BaselineGauge(key string) string { return MetricBaselinePrefix + key }
