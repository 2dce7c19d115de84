// Package analyzer answers "is this interface slower or less successful this
// month than its baseline, by how much, since when, and is it real?" from
// the metrics perfbase stores, read through a Querier so that the
// embedded store and a remote Prometheus-compatible server give the same
// answer.
//
// It computes per-interface aggregates for calendar months (quantiles from
// histogram buckets summed over the whole period, never averages of
// quantiles; success ratios with their denominators), daily series for the
// statistical tests and change points, drift verdicts that need both a
// significant test (Mann-Whitney U on daily values, two-proportion z-tests
// on success counts, Benjamini-Hochberg across all interfaces and metrics)
// and a practical magnitude. Package analyzer/render presents a Report (a
// table, markdown, JSON or a self-contained HTML page) and analyzer/notify
// posts its regressions to Alertmanager.
//
// A minimal use:
//
//	rep, err := analyzer.BuildReport(ctx, querier, analyzer.DefaultOptions(), analyzer.BaselineOptions{}, month)
//	if err != nil { ... }
//	err = render.Render(os.Stdout, rep, render.FormatTable, render.Options{})
//
// Saved baselines (Baseline, LoadBaseline, Save) outlive the backend's
// retention and are read by `perfbase serve`.
package analyzer
