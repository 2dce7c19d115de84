// Package importer brings past load-test results into perfbase as runs:
// JMeter JTL CSV files and vegeta JSON results become the very metric
// names, labels, cumulative counters and classic histograms a live
// `perfbase run` exports (see internal/conventions), sampled every 15 s at
// their original timestamps, so baselines and dashboards read imported
// months and live runs alike.
//
// A Reader yields classified Records (JTLReader, VegetaReader); ImportFile
// streams them through an aggregator, in memory bounded by the number of
// interfaces and the reorder window rather than by the rows, into a
// Destination: the embedded store (one block per file, committed
// atomically), an OpenMetrics file for promtool backfill, Prometheus
// remote write, or the VictoriaMetrics import API. See docs/import.md.
package importer
