// Package quantile estimates quantiles from cumulative ("classic", le)
// histogram buckets the way PromQL's histogram_quantile does, so a figure
// perfbase computes from buckets it has read (a run record, a month's
// summed buckets) is the figure a Prometheus server would return for the
// same buckets. It exists so that readers of buckets (the analyzer, run
// records) need not link the PromQL engine and the TSDB behind it.
package quantile
