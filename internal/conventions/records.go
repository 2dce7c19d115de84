package conventions

// Run records: a compact summary of one pressure-test run per shard and
// interface, stored as time series so that every Prometheus-compatible
// backend can hold it and reports read one record per run instead of every
// scrape of it (see internal/runrecord for the layout and why).
//
// The bulky series carry no run_id, so their number does not grow with the
// number of runs: a run-shard writes all its totals at one timestamp, the
// end of the run, and MetricRecordInfo, which does carry run_id, has a
// sample at the same timestamp to name them. All record series are gauges:
// each sample is a finished figure, not a counter to take the increase of.
const (
	// MetricRecordInfo is 1 at the end of each run-shard, labelled with
	// LabelRunID, LabelScenario, LabelShard, LabelShards, LabelMode,
	// LabelStatus and LabelThresholds. It is the only record series with a
	// run_id: one series per run-shard.
	MetricRecordInfo = "perfbase_run_record_info"
	// MetricRecordStart is when the run started, warm-up included, in Unix
	// seconds; by scenario and shard.
	MetricRecordStart = "perfbase_run_record_start_timestamp_seconds"
	// MetricRecordSteadyStart is when the run's steady phase (the first
	// stage after warm-up) started, in Unix seconds; by scenario and shard.
	// The first window of the record starts here, and the totals count
	// from here on.
	MetricRecordSteadyStart = "perfbase_run_record_steady_start_timestamp_seconds"
	// MetricRecordRequests is the number of completed steady-phase requests
	// by scenario, shard, interface and outcome (Outcome* values).
	MetricRecordRequests = "perfbase_run_record_requests"
	// MetricRecordScheduled is the number of steady-phase requests taken
	// off the schedule (sent or dropped), by scenario, shard and interface.
	MetricRecordScheduled = "perfbase_run_record_scheduled"
	// MetricRecordDropped is the number of scheduled steady-phase requests
	// never sent, by scenario, shard and interface.
	MetricRecordDropped = "perfbase_run_record_dropped"
	// MetricRecordActive is the number of seconds the interface had load
	// in steady stages, by scenario, shard and interface.
	MetricRecordActive = "perfbase_run_record_active_seconds"
	// MetricRecordDurationBucket is the cumulative count of completed
	// steady-phase requests, all outcomes together, with a latency at most
	// LabelLe seconds, by scenario, shard, interface and le. Every bound of
	// DurationBuckets and "+Inf" is written, so records of several runs or
	// shards merge by summing per le and histogram_quantile works on them.
	MetricRecordDurationBucket = "perfbase_run_record_duration_seconds_bucket"
	// MetricRecordWindowRequests is the number of completed requests in one
	// window of the steady phase, by scenario, shard, interface and
	// outcome, with one sample per window at the window's end.
	MetricRecordWindowRequests = "perfbase_run_record_window_requests"
	// MetricRecordWindowLatency is a latency quantile of one window in
	// seconds, by scenario, shard, interface and LabelQuantile (one of
	// RecordWindowQuantiles), at the window's end; absent for a window
	// without completed requests.
	MetricRecordWindowLatency = "perfbase_run_record_window_latency_seconds"
)

// RecordMetrics lists every record series name, the info series first.
var RecordMetrics = []string{
	MetricRecordInfo, MetricRecordStart, MetricRecordSteadyStart,
	MetricRecordRequests, MetricRecordScheduled, MetricRecordDropped, MetricRecordActive,
	MetricRecordDurationBucket, MetricRecordWindowRequests, MetricRecordWindowLatency,
}

// Labels of MetricRecordInfo besides run_id, scenario, shard and mode.
const (
	// LabelShards is the number of shards the run was split into, "1"
	// when it was not. (LabelShard is "i/n", "1/1" when unsharded.)
	LabelShards = "shards"
	// LabelStatus says how the run ended (RecordStatus* values).
	LabelStatus = "status"
	// LabelThresholds sums up the scenario's thresholds for the run-shard
	// (RecordThresholds* values); LabelThreshold names one threshold.
	LabelThresholds = "thresholds"
	// LabelFailures is where the run wrote its failure samples
	// (perfbase run --failures); absent when it wrote none.
	LabelFailures = "failures_file"
	// LabelGenerator is RecordGeneratorSaturated when the load generator,
	// not the target, limited the run; absent otherwise.
	LabelGenerator = "generator"
)

// RecordGeneratorSaturated is the LabelGenerator value of a run whose
// latencies include the load generator's own queueing.
const RecordGeneratorSaturated = "saturated"

// RecordShardUnsharded is the LabelShard value of a run that was not split.
const RecordShardUnsharded = "1/1"

// RecordStatus* are the values of LabelStatus.
const (
	// RecordStatusCompleted: every stage ran to its end.
	RecordStatusCompleted = "completed"
	// RecordStatusInterrupted: stopped early by the user (Ctrl-C, SIGTERM).
	RecordStatusInterrupted = "interrupted"
	// RecordStatusGuardAborted: the guard stopped the run to protect the target.
	RecordStatusGuardAborted = "guard_aborted"
)

// RecordStatuses lists the LabelStatus values.
var RecordStatuses = []string{RecordStatusCompleted, RecordStatusInterrupted, RecordStatusGuardAborted}

// RecordThresholds* are the values of LabelThresholds.
const (
	// RecordThresholdsPassed: the scenario had thresholds and all passed.
	RecordThresholdsPassed = "passed"
	// RecordThresholdsFailed: at least one threshold failed.
	RecordThresholdsFailed = "failed"
	// RecordThresholdsNone: the scenario had no thresholds (or an import).
	RecordThresholdsNone = "none"
)

// RecordThresholdsValues lists the LabelThresholds values.
var RecordThresholdsValues = []string{RecordThresholdsPassed, RecordThresholdsFailed, RecordThresholdsNone}

// RecordWindowQuantiles are the LabelQuantile values of
// MetricRecordWindowLatency, in the form Prometheus writes them.
var RecordWindowQuantiles = []string{"0.5", "0.9", "0.99"}
