package main

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/notify"
	"github.com/perfbase/perfbase/analyzer/render"
	"github.com/perfbase/perfbase/internal/backend"
)

// analysisFlags are shared by report and baseline save.
type analysisFlags struct {
	URL            string        `name:"url" help:"Prometheus-compatible server (Prometheus, VictoriaMetrics, Thanos, Mimir); empty = the embedded store."`
	HTTPConfigFile string        `name:"http-config-file" help:"HTTP client config (auth, TLS) for --url, in Prometheus' http_config YAML." type:"existingfile"`
	DataDir        string        `name:"data-dir" help:"Embedded store directory." default:"perfbase-data" type:"path"`
	Timeout        time.Duration `help:"Timeout of each query." default:"2m"`

	Timezone       string        `help:"Time zone of calendar months and days (IANA name)." default:"UTC"`
	RunID          string        `name:"run-id" help:"Only read this run_id (default: all runs)."`
	BaselineMonths int           `name:"baseline-months" help:"Baseline: the N months before the report month." default:"${report_baseline_months}"`
	BaselineMonth  string        `name:"baseline-month" help:"Baseline: this one month (YYYY-MM) instead." placeholder:"YYYY-MM"`
	BaselineRun    []string      `name:"baseline-run" help:"Baseline: this run (repeatable with --run; one run for a month)." placeholder:"RUN_ID"`
	Resolution     time.Duration `help:"Step for active time and peak throughput; at least twice the scrape interval." default:"${report_resolution}"`
	Parallel       int           `help:"Queries in flight at once." default:"${report_parallel}"`
	Batch          int           `help:"Interfaces per query at most, to bound memory on large stores (0 = all at once)." default:"${report_batch}"`
	MemoryLimit    int64         `name:"memory-limit-mib" help:"Soft memory limit in MiB: the garbage collector works harder near it (0: none; GOMEMLIMIT, when set, wins)." default:"800"`
}

func (f *analysisFlags) options(g *Globals) (analyzer.Options, analyzer.BaselineOptions, error) {
	o := analyzer.DefaultOptions()
	// A year of runs of a thousand interfaces is mostly short-lived
	// garbage (decoded query results): a soft limit keeps the peak near
	// the live data instead of twice it, for a few percent more CPU.
	if f.MemoryLimit < 0 {
		return o, analyzer.BaselineOptions{}, fmt.Errorf("--memory-limit-mib %d must not be negative", f.MemoryLimit)
	}
	if f.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(f.MemoryLimit << 20)
	}
	var pin analyzer.BaselineOptions
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return o, pin, fmt.Errorf("--timezone: %w", err)
	}
	o.Location, o.RunID, o.BaselineMonths, o.Resolution, o.Parallel, o.Batch = loc, f.RunID, f.BaselineMonths, f.Resolution, f.Parallel, f.Batch
	if f.BaselineMonth != "" {
		m, err := analyzer.ParseMonth(f.BaselineMonth)
		if err != nil {
			return o, pin, fmt.Errorf("--baseline-month: %w", err)
		}
		pin.Month = &m
	}
	return o, pin, nil
}

func (f *analysisFlags) open(g *Globals) (backend.Backend, error) {
	if f.URL == "" {
		// Before reading, and only while it does: readers never hold the
		// store's lock, so a run or import can start during a report.
		deriveOldRuns(g.Context(), g, f.DataDir)
	}
	return backend.Open(backend.Options{URL: f.URL, HTTPConfigFile: f.HTTPConfigFile, DataDir: f.DataDir, Timeout: f.Timeout, Logger: g.Logger, ReadOnly: true})
}

// ReportCmd compares a month with its baseline.
type ReportCmd struct {
	analysisFlags `embed:""`

	Month        string  `help:"Month to report (YYYY-MM); default: the last complete month." placeholder:"YYYY-MM" xor:"unit"`
	ReportRun    string  `name:"run" help:"Report this pressure-test run against baseline runs instead of a month." placeholder:"RUN_ID" xor:"unit"`
	BaselineRuns int     `name:"baseline-runs" help:"With --run: compare with the N previous runs of its scenario (3 measure how much runs differ from each other)." default:"${report_baseline_runs}"`
	Format       string  `help:"Output format: table, markdown, json or html." default:"table" enum:"table,markdown,json,html"`
	Output       string  `short:"o" help:"Write the report to this file instead of stdout." type:"path"`
	Color        string  `help:"Colour the table: auto (on terminals), always or never." default:"auto" enum:"auto,always,never"`
	BaselineFile string  `name:"baseline-file" help:"Baseline: a file saved by 'perfbase baseline save' instead." type:"existingfile"`
	TrendMonths  int     `name:"trend-months" help:"Months shown in trends and searched for change points." default:"${report_trend_months}"`
	LatencyTol   float64 `name:"latency-tolerance" help:"Relative latency change that matters." default:"${report_latency_tol}"`
	SuccessTol   float64 `name:"success-tolerance" help:"Absolute success ratio change that matters (0.001 = 0.1 point)." default:"${report_success_tol}"`
	ThroughTol   float64 `name:"throughput-tolerance" help:"Relative throughput change that matters." default:"${report_throughput_tol}"`
	FDR          float64 `name:"fdr" help:"False discovery rate across all interfaces and metrics." default:"${report_fdr}"`
	Notify       string  `name:"notify-alertmanager" help:"Post each regression to this Alertmanager (v2 API)." placeholder:"URL"`
	NotifyHTTP   string  `name:"notify-http-config-file" help:"HTTP client config (auth, TLS) for --notify-alertmanager, in Prometheus' http_config YAML." type:"existingfile"`
}

// Help shows examples under the flags.
func (c *ReportCmd) Help() string {
	return `Exit codes: 0 nothing regressed; 1 something regressed; 2 bad input, an unknown run,
no data for the period asked, or a backend that failed (unreachable, an error, garbage,
a timeout): a report that could not be made never passes as stable.

A month that holds recorded pressure-test runs is judged run by run (one or a few runs
a month); a month of continuous traffic, day by day. The report says which.

Examples:
  perfbase report --run peak-2026-11                      # against the 3 runs before it
  perfbase report --run peak-2026-11 --baseline-run peak-2026-10
  perfbase report --month 2025-04
  perfbase report --month 2025-04 --format html -o report.html
  perfbase report --url http://prometheus:9090 --baseline-file q1.json --format json
  perfbase report --notify-alertmanager http://alertmanager:9093`
}

// Run builds the report, writes it and sets the exit code.
func (c *ReportCmd) Run(g *Globals) (err error) {
	o, pin, err := c.options(g)
	if err != nil {
		return badInput(err)
	}
	o.TrendMonths, o.LatencyTolerance, o.SuccessTolerance, o.ThroughputTolerance, o.FDR =
		c.TrendMonths, c.LatencyTol, c.SuccessTol, c.ThroughTol, c.FDR
	if c.ReportRun != "" {
		return c.runReport(g, o)
	}
	switch len(c.BaselineRun) {
	case 0:
	case 1:
		pin.RunID = c.BaselineRun[0]
	default:
		return badInput(errors.New("--baseline-run: a month is compared with one run; several baseline runs go with --run"))
	}
	month := analyzer.MonthOf(time.Now(), o.Location).Add(-1)
	if c.Month != "" {
		if month, err = analyzer.ParseMonth(c.Month); err != nil {
			return badInput(fmt.Errorf("--month: %w", err))
		}
	}
	if c.BaselineFile != "" {
		if pin.Month != nil || pin.RunID != "" {
			return badInput(errors.New("--baseline-file, --baseline-month and --baseline-run exclude each other"))
		}
		b, err := analyzer.LoadBaseline(c.BaselineFile)
		if err != nil {
			return badInput(err)
		}
		pin.File, pin.FilePath = b, c.BaselineFile
	} else if pin.Month != nil && pin.RunID != "" {
		return badInput(errors.New("--baseline-month and --baseline-run exclude each other"))
	}
	var notifier *http.Client
	if c.Notify != "" {
		if notifier, err = httpClient(c.NotifyHTTP, "--notify-http-config-file", "perfbase-notify"); err != nil {
			return badInput(err)
		}
	}
	be, err := c.open(g)
	if err != nil {
		return badInput(err)
	}
	defer closeInto(&err, be, be.Name())
	rep, err := analyzer.BuildReport(g.Context(), be, o, pin, month)
	if err != nil {
		return reportFailed(err)
	}
	if !hasCurrentData(rep) {
		return badInput(fmt.Errorf("no steady-phase data for %s in %s: nothing to report (check --month, --data-dir or --url)", month, be.Name()))
	}
	return c.write(g, rep, notifier)
}

// runReport reports one run against its baseline runs.
func (c *ReportCmd) runReport(g *Globals, o analyzer.Options) (err error) {
	if c.BaselineMonth != "" {
		return badInput(errors.New("--baseline-month goes with --month; with --run use --baseline-run, --baseline-runs or --baseline-file"))
	}
	pin := analyzer.RunBaseline{RunIDs: c.BaselineRun, Previous: c.BaselineRuns}
	if c.BaselineFile != "" {
		if len(c.BaselineRun) > 0 {
			return badInput(errors.New("--baseline-file and --baseline-run exclude each other"))
		}
		b, err := analyzer.LoadBaseline(c.BaselineFile)
		if err != nil {
			return badInput(err)
		}
		pin.File, pin.FilePath = b, c.BaselineFile
	}
	var notifier *http.Client
	if c.Notify != "" {
		if notifier, err = httpClient(c.NotifyHTTP, "--notify-http-config-file", "perfbase-notify"); err != nil {
			return badInput(err)
		}
	}
	be, err := c.open(g)
	if err != nil {
		return badInput(err)
	}
	defer closeInto(&err, be, be.Name())
	rep, err := analyzer.BuildRunReport(g.Context(), be, o, c.ReportRun, pin)
	if err != nil {
		return reportFailed(err)
	}
	return c.write(g, rep, notifier)
}

// reportFailed: a report that could not be made is exit 2, whether the
// input was wrong or the backend failed, never 1 (which means "regressed").
func reportFailed(err error) error {
	if errors.Is(err, analyzer.ErrInvalidOptions) || errors.Is(err, analyzer.ErrNoRuns) {
		return badInput(err)
	}
	return badInput(fmt.Errorf("could not make the report: %w", err))
}

// hasCurrentData tells whether any interface had completed requests in
// the period reported.
func hasCurrentData(rep *analyzer.Report) bool {
	for _, in := range rep.Interfaces {
		if n := float64(in.Requests.Current); n > 0 {
			return true
		}
	}
	return false
}

// write renders the report, notifies and sets the exit code.
func (c *ReportCmd) write(g *Globals, rep *analyzer.Report, notifier *http.Client) (err error) {
	// Buffered so that any failed write shows in Flush: a report that
	// could not be written in full is an error, not a short file.
	w := bufio.NewWriter(g.Stdout)
	var f *os.File
	if c.Output != "" {
		if f, err = os.Create(c.Output); err != nil {
			return badInput(fmt.Errorf("--output: %w", err))
		}
		w = bufio.NewWriter(f)
	}
	color := c.Color == "always" || c.Color == "auto" && c.Output == "" && isTerminal(g.Stdout) && os.Getenv("NO_COLOR") == ""
	err = render.Render(w, rep, render.Format(c.Format), render.Options{Color: color})
	if err == nil {
		err = w.Flush()
	}
	if f != nil {
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return fmt.Errorf("could not write report: %w", err)
	}
	if c.Notify != "" {
		n, err := notify.Alertmanager(g.Context(), notifier, c.Notify, rep, time.Now())
		if err != nil {
			return badInput(fmt.Errorf("--notify-alertmanager: %w", err))
		}
		g.Logger.Info("posted regressions to Alertmanager", "alerts", n, "url", c.Notify)
	}
	if rep.Regressed() {
		what := rep.Month
		if rep.Run != nil {
			what = "run " + rep.Run.RunID
		}
		return failed(fmt.Errorf("%d metrics regressed in %s", len(rep.Regressions()), what))
	}
	return nil
}

// httpClient builds a client from a Prometheus http_config file (auth,
// TLS, proxy), or the default config when file is empty; flag names the
// file in errors. Requests time out after 30 s.
func httpClient(file, flag, name string) (*http.Client, error) {
	cfg := config.DefaultHTTPClientConfig
	if file != "" {
		c, _, err := config.LoadHTTPConfigFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		cfg = *c
	}
	cl, err := config.NewClientFromConfig(cfg, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	cl.Timeout = 30 * time.Second
	return cl, nil
}
