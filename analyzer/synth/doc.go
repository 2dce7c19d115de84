// Package synth generates months of realistic perfbase history: the same
// metric series a live run produces (requests by outcome, latency
// histograms with the conventions bucket layout, scheduled and dropped
// counters), with weekly and month-end patterns, day-to-day noise
// (independent or autocorrelated), missing days and injected changes
// (latency steps and creeps, business and system success dips). Tests use it to measure the analyzer's accuracy; `perfbase demo`
// uses it to fill the embedded store.
//
// The model is per day (DayState): Generate turns it into samples, and
// tests of the statistics can read it directly without a query engine.
// RunsConfig models periodic pressure-test runs instead (a few runs a
// month, each split into windows, with run-to-run and within-run
// variation) and yields what a run record holds, per run and interface.
//
//	cfg := synth.Config{Start: from, End: to, Seed: 1, RunDuration: 10 * time.Minute,
//		Interfaces: []synth.Interface{{Name: "query_bill", RPS: 20, Median: 15 * time.Millisecond, Sigma: 0.4}}}
//	err := cfg.Generate(func(ls labels.Labels, t int64, v float64) error { return bulk.Append(ctx, ls, t, v) })
package synth
