// Package dashboards generates perfbase's Grafana dashboards with the
// grafana-foundation-sdk: an interface overview of one run against the
// served baseline, a monthly trend, and a comparison of two runs.
//
// Every PromQL expression is built from internal/conventions names, so the
// panels query exactly what the exporter emits. Output is checked against
// Grafana's JSON schemas (see ../shared/grafana-jsonschema) in the tests;
// the SDK quirks noted there are worked around here: tooltip, legend and
// orientation are always set, panels are added at dashboard level after
// their row, and field overrides are not used (the schema only accepts
// object-valued override properties, which Grafana itself does not use).
//
//	ds, err := dashboards.Build(dashboards.DefaultOptions())
//	paths, err := dashboards.WriteDir("out", ds)
package dashboards
