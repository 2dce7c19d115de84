// Package runner owns one pressure-test run from start to teardown: the
// exporter's registry, the embedded store's scraper, the Pushgateway or
// VictoriaMetrics pusher, the /metrics server, the load itself, the
// summary, the final scrape and push, the linger and the ordered
// shutdown. `perfbase run` and `perfbase demo` turn their flags into
// Options and make one call, so the lifecycle has one home and tests and
// other binaries can run a load in-process.
//
// Everything after the load happens even when it was interrupted or
// aborted: the summary is written first (nothing that can fail later can
// lose it), then the final scrape and the final push, which are the run's
// record. Resources are released in the reverse order of their start, by
// a cleanup stack.
//
//	o := runner.DefaultOptions()
//	o.Scenario, o.RunID, o.DataDir = s, "peak-2026-11", "perfbase-data"
//	res, err := runner.Run(ctx, o)
package runner
