// Package conventions holds every name perfbase emits or queries: metric
// names, label names, label values, recording-rule names and the histogram
// bucket layout.
//
// It has no dependencies on purpose. The exporter registers metrics under
// these names, the analyzer queries them, and the dashboards and alerts
// generators build PromQL from them, so a query can never drift from what is
// exported: renaming a metric here renames it everywhere, and the golden files
// of the generators show the change.
package conventions
