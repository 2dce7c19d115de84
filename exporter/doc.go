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
// BaselineServer serves a saved baseline file as gauges for `perfbase
// serve`, reloading it on demand without a gap in what is scraped.
//
// The tests keep a second Recorder built on VictoriaMetrics/metrics
// (vm_test.go): it records the same series, which shows the layout does
// not depend on client_golang, and BenchmarkRecord compares the cost of
// recording with the two libraries.
//
// Metric and label names come from internal/conventions, which the
// analyzer, dashboards and alerts read too.
package exporter
