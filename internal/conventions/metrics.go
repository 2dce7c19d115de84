package conventions

// Namespace prefixes every metric perfbase emits.
const Namespace = "perfbase"

// Metric names. Counters end in _total, durations are in seconds, info
// metrics end in _info, as the Prometheus naming guide asks.
const (
	// MetricRequestsTotal counts completed requests by interface, phase and
	// outcome. Dropped requests are not in it; they have their own counter.
	MetricRequestsTotal = "perfbase_requests_total"
	// MetricRequestDuration is the latency histogram, by interface, phase and
	// outcome, with the buckets of DurationBuckets.
	MetricRequestDuration = "perfbase_request_duration_seconds"
	// MetricRequestsScheduled counts requests taken off the schedule: sent,
	// or dropped because they could not be sent on time.
	MetricRequestsScheduled = "perfbase_requests_scheduled_total"
	// MetricRequestsDropped counts scheduled requests that were never sent.
	MetricRequestsDropped = "perfbase_requests_dropped_total"
	// MetricFailures counts failed requests by bounded reason (see Reason*).
	MetricFailures = "perfbase_request_failures_total"
	// MetricBusinessCodes counts responses by business code, from a bounded
	// set: codes beyond the set are counted as BusinessCodeOther.
	MetricBusinessCodes = "perfbase_business_codes_total"
	// MetricInFlight is the number of requests sent and not yet answered.
	MetricInFlight = "perfbase_requests_in_flight"
	// MetricTargetRate is the scheduled arrival rate in requests per second
	// (open loop), per interface.
	MetricTargetRate = "perfbase_target_rate_requests_per_second"
	// MetricVirtualUsers is the number of closed-loop virtual users per interface.
	MetricVirtualUsers = "perfbase_virtual_users"
	// MetricGeneratorLag is how late the load generator sent open-loop
	// requests (sent minus scheduled), in seconds, with LagBuckets: its own
	// queueing, which would otherwise hide inside the measured latencies.
	MetricGeneratorLag = "perfbase_generator_lag_seconds"
	// MetricGeneratorWorkers is the number of workers and virtual users
	// alive in the load generator.
	MetricGeneratorWorkers = "perfbase_generator_workers"
	// MetricGeneratorSaturated is 1 while the generator, not the target,
	// limits the run (judged every second), else 0.
	MetricGeneratorSaturated = "perfbase_generator_saturated"
	// MetricRunInfo is 1 for the run, with the scenario and mode as labels.
	MetricRunInfo = "perfbase_run_info"
	// MetricRunStart is the run's start time in Unix seconds.
	MetricRunStart = "perfbase_run_start_timestamp_seconds"
	// MetricRunEnd is the run's end time in Unix seconds; absent while running.
	MetricRunEnd = "perfbase_run_end_timestamp_seconds"
	// MetricGuardAborted is 1 when the guard aborted the run.
	MetricGuardAborted = "perfbase_guard_aborted"
	// MetricThresholdPassed is 1 when a scenario threshold passed at the end
	// of the run, 0 when it failed, by interface and threshold.
	MetricThresholdPassed = "perfbase_threshold_passed"

	// MetricBaselinePrefix starts the gauges `perfbase serve` exposes for a
	// saved baseline, one per BaselineMetric, e.g. perfbase_baseline_latency_p99_seconds.
	MetricBaselinePrefix = "perfbase_baseline_"
	// MetricBaselineInfo is 1 for the loaded baseline, with its source and period.
	MetricBaselineInfo = "perfbase_baseline_info"
	// Labels of MetricBaselineInfo: the baseline's kind (months, run...),
	// its period as reports print it, and when the file was made (RFC 3339).
	LabelBaselineKind    = "kind"
	LabelBaselinePeriod  = "period"
	LabelBaselineCreated = "created"
)

// Label names.
const (
	LabelRunID        = "run_id"
	LabelInterface    = "interface"
	LabelOutcome      = "outcome"
	LabelPhase        = "phase"
	LabelReason       = "reason"
	LabelCode         = "code"
	LabelScenario     = "scenario"
	LabelMode         = "mode"
	LabelShard        = "shard"
	LabelThreshold    = "threshold"
	LabelLe           = "le"
	LabelMetric       = "metric"
	LabelBaselineFrom = "baseline"
)

// Outcome label values: every completed request has exactly one.
const (
	// OutcomeSuccess: transport ok, expected HTTP status, business rule ok.
	OutcomeSuccess = "success"
	// OutcomeBusinessFailure: system ok, but the body's business code says failed.
	OutcomeBusinessFailure = "business_failure"
	// OutcomeSystemFailure: transport error, timeout or unexpected HTTP status.
	OutcomeSystemFailure = "system_failure"
)

// Outcomes lists the outcome values in a fixed order.
var Outcomes = []string{OutcomeSuccess, OutcomeBusinessFailure, OutcomeSystemFailure}

// Phase label values. Warm-up requests are counted like any other, but
// baselines and thresholds read only PhaseSteady.
const (
	PhaseWarmup = "warmup"
	PhaseSteady = "steady"
)

// Phases lists the phase values in a fixed order.
var Phases = []string{PhaseWarmup, PhaseSteady}

// The steady-phase matcher selects the measured requests: those not labelled
// warm-up, so that data imported without a phase label counts as steady too.
// The analyzer, the rules, the dashboards and run records all select with it.
const (
	SteadyMatcherLabel = LabelPhase
	SteadyMatcherOp    = "!="
	SteadyMatcherValue = PhaseWarmup
	// SteadyMatcher is the three as one PromQL label matcher: phase!="warmup".
	SteadyMatcher = SteadyMatcherLabel + SteadyMatcherOp + `"` + SteadyMatcherValue + `"`
)

// Failure reasons, a bounded set so that labels never carry raw error text.
const (
	ReasonTimeout           = "timeout"
	ReasonConnectionRefused = "connection_refused"
	ReasonConnectionReset   = "connection_reset"
	ReasonDNS               = "dns"
	ReasonTLS               = "tls"
	ReasonTransport         = "transport_other"
	ReasonHTTP4xx           = "http_4xx"
	ReasonHTTP5xx           = "http_5xx"
	ReasonHTTPOther         = "http_other"
	ReasonBusinessCode      = "business_code"
	ReasonBodyUnparsable    = "body_unparsable"
)

// Reasons lists every failure reason.
var Reasons = []string{
	ReasonTimeout, ReasonConnectionRefused, ReasonConnectionReset, ReasonDNS, ReasonTLS,
	ReasonTransport, ReasonHTTP4xx, ReasonHTTP5xx, ReasonHTTPOther, ReasonBusinessCode,
	ReasonBodyUnparsable,
}

// BusinessCodeOther stands for business codes beyond MaxBusinessCodes
// distinct values per interface, and BusinessCodeNone for bodies without one.
const (
	BusinessCodeOther = "other"
	BusinessCodeNone  = "none"
	MaxBusinessCodes  = 20
)

// Per-interface metrics the analyzer computes for a period, keyed by these
// names in reports, in saved baseline files and (after MetricBaselinePrefix)
// in the gauges `perfbase serve` exposes.
const (
	BaselineLatencyP50      = "latency_p50_seconds"
	BaselineLatencyP90      = "latency_p90_seconds"
	BaselineLatencyP95      = "latency_p95_seconds"
	BaselineLatencyP99      = "latency_p99_seconds"
	BaselineBusinessSuccess = "business_success_ratio"
	BaselineSystemSuccess   = "system_success_ratio"
	BaselineThroughput      = "throughput_rps"
	BaselineDroppedRatio    = "dropped_ratio"
)

// BaselineMetrics lists the period metrics in report order.
var BaselineMetrics = []string{
	BaselineLatencyP50, BaselineLatencyP90, BaselineLatencyP95, BaselineLatencyP99,
	BaselineBusinessSuccess, BaselineSystemSuccess, BaselineThroughput, BaselineDroppedRatio,
}
