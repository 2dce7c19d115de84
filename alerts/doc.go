// Package alerts generates Prometheus rule files for perfbase metrics:
// recording rules for per-interface rates, success ratios and latency
// quantiles; alerts for latency above the served baseline, success error
// budgets burning too fast (multiwindow, multi-burn-rate), load not reached,
// and a loader that is down or silent during a run; and `promtool test rules`
// files that make each alert fire and not fire on synthetic series.
//
// Every metric and rule name comes from internal/conventions, so the rules
// cannot drift from what the exporter emits. The output is built with
// prometheus/model/rulefmt types and restricted to what Prometheus 2.42
// loads: no group labels, no query_offset, no functions newer than 2.42.
//
//	files, err := alerts.Generate(alerts.DefaultOptions())
//	// files["perfbase-rules.yml"], files["perfbase-rules.test.yml"]
package alerts
