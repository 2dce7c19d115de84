// Package exporter turns the loader's measurements into Prometheus metrics.
//
// Metrics implements loader.Recorder on a custom client_golang registry:
// every series carries the run's run_id (and shard, when the scenario is
// split across loaders), per-interface cells are resolved once so that
// recording a request allocates nothing, and system success (transport and
// HTTP status) is kept apart from business success (the body's own code).
// Server serves the registry on /metrics with OpenMetrics negotiation, and
// Pusher sends it to a Pushgateway or VictoriaMetrics for loaders that
// Prometheus cannot scrape.
//
// VMMetrics records the same series with VictoriaMetrics/metrics; it exists
// so that the cost of recording can be compared between the two libraries
// (see BenchmarkRecord) and for users who prefer that library's footprint.
//
// Metric and label names come from internal/conventions, which the
// analyzer, dashboards and alerts read too.
package exporter
