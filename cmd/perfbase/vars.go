package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/alerts"
	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/importer"
	"github.com/perfbase/perfbase/internal/runner"
)

// defaultVars are the flag defaults that packages own: each package's
// DefaultOptions is the one place a default is written, and the flags'
// `default:"${...}"` tags read it from here, so help and behaviour agree.
func defaultVars() kong.Vars {
	a, al, im, rn := analyzer.DefaultOptions(), alerts.DefaultOptions(), importer.DefaultOptions(), runner.DefaultOptions()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	d := func(v time.Duration) string { return v.String() }
	md := func(v model.Duration) string { return v.String() }
	return kong.Vars{
		"report_baseline_months": strconv.Itoa(a.BaselineMonths),
		"report_trend_months":    strconv.Itoa(a.TrendMonths),
		"report_resolution":      d(a.Resolution),
		"report_parallel":        strconv.Itoa(a.Parallel),
		"report_batch":           strconv.Itoa(a.Batch),
		"report_latency_tol":     f(a.LatencyTolerance),
		"report_success_tol":     f(a.SuccessTolerance),
		"report_throughput_tol":  f(a.ThroughputTolerance),
		"report_fdr":             f(a.FDR),
		"report_baseline_runs":   strconv.Itoa(analyzer.DefaultBaselineRuns),
		"alerts_latency_tol":     f(al.LatencyTolerance),
		"alerts_latency_for":     md(al.LatencyFor),
		"alerts_latency_keys":    strings.Join(al.LatencyQuantiles, ","),
		"alerts_drop_tol":        f(al.DropTolerance),
		"alerts_max_objective":   f(al.MaxObjective),
		"alerts_loader_job":      al.LoaderJob,
		"alerts_runbook_url":     al.RunbookURL,
		"import_interval":        d(im.Interval),
		"import_max_malformed":   strconv.Itoa(im.MaxMalformed),
		"run_store_interval":     d(rn.StoreInterval),
		"run_record_window":      d(rn.RecordWindow),
	}
}
