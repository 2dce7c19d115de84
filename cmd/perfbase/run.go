package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/exporter"
	"github.com/perfbase/perfbase/internal/runner"
	"github.com/perfbase/perfbase/loader"
	"github.com/perfbase/perfbase/loader/scenario"
)

// RunCmd drives a scenario's load and exports its metrics.
type RunCmd struct {
	Scenario string `arg:"" help:"Scenario file (YAML)." type:"existingfile"`

	RunID            string        `help:"Run identifier on every series. Default: scenario name and start time, e.g. top-mixed-20261126T0800Z." placeholder:"ID"`
	Listen           string        `help:"Serve /metrics on this address during the run; empty to disable." default:":9101"`
	Linger           time.Duration `help:"Keep serving /metrics this long after the run, so the last scrape is not lost (set it to the scrape interval)." default:"0s"`
	Shard            loader.Shard  `help:"Run shard i of n: send 1/n of every interface's rate and users. All shards share one --run-id." placeholder:"i/n" default:"1/1"`
	SummaryJSON      string        `help:"Also write the summary as JSON to this file ('-' for stdout)." placeholder:"FILE"`
	Failures         string        `help:"Write samples of failed requests (as sent and answered, secrets redacted) to this file as JSON lines." placeholder:"FILE"`
	FailuresPerKind  int           `help:"Failure samples kept per interface and reason: this many first ones and this many sampled from the rest." default:"10"`
	NativeHistograms bool          `help:"Add native histogram buckets to the latency histogram (for backends that ingest them)."`
	PushURL          string        `help:"Push the metrics at the end (and every --push-interval) to this Pushgateway or VictoriaMetrics URL." placeholder:"URL"`
	PushKind         string        `help:"What --push-url is: pushgateway or victoriametrics." default:"pushgateway" enum:"pushgateway,victoriametrics"`
	PushHTTPConfig   string        `name:"push-http-config-file" help:"HTTP client config (auth, TLS) for --push-url, in Prometheus' http_config YAML." type:"existingfile"`
	RecordURL        string        `name:"record-url" help:"Also send the run's record (per-interface totals and per-minute windows, what 'perfbase report --run' reads) by remote write to this URL, e.g. http://prometheus:9090/api/v1/write." placeholder:"URL"`
	RecordWindow     time.Duration `name:"record-window" help:"Shortest within-run window of the run record; shorten it for runs of a few minutes so that one run can be compared with one other." default:"${run_record_window}"`
	RecordHTTPConfig string        `name:"record-http-config-file" help:"HTTP client config (auth, TLS) for --record-url, in Prometheus' http_config YAML." type:"existingfile"`
	PushInterval     time.Duration `help:"Push during the run at this interval; 0 pushes at the end only." default:"0s"`
	Progress         string        `help:"Progress display: auto (redrawn on a terminal, lines every 10s otherwise), plain or off." default:"auto" enum:"auto,plain,off"`
	DataDir          string        `help:"Embedded store the run records itself into (query it with 'perfbase query')." default:"perfbase-data" type:"path"`
	NoStore          bool          `help:"Do not record the run into the embedded store (Prometheus scrapes it, or --push-url)."`
	StoreInterval    time.Duration `help:"How often the run's metrics are recorded into the embedded store." default:"${run_store_interval}"`
}

// Help is shown by --help.
func (c *RunCmd) Help() string {
	return `Exit codes: 0 the run ended and its thresholds passed; 1 a threshold failed or
the guard aborted the run; 2 bad input (nothing was sent); 130 interrupted.

Examples:
  perfbase run examples/mixed.yml
  perfbase run --listen :9101 --linger 30s --summary-json out.json examples/mixed.yml
  perfbase run --shard 2/3 --run-id peak-2026-11 examples/mixed.yml   # loader 2 of 3`
}

// Run implements the command: flags to runner.Options, one call, exit code.
func (c *RunCmd) Run(g *Globals) error {
	s, err := scenario.Load(c.Scenario)
	if err != nil {
		return badInput(err)
	}
	o := runner.DefaultOptions()
	o.Scenario, o.RunID, o.Shard, o.NativeHistograms = s, c.RunID, c.Shard, c.NativeHistograms
	o.Listen, o.Linger, o.Logger, o.Quit = c.Listen, c.Linger, g.Logger, g.Quit()
	o.StoreInterval, o.RecordWindow = c.StoreInterval, c.RecordWindow
	if !c.NoStore {
		o.DataDir = c.DataDir
	}
	if c.PushURL != "" {
		client, err := httpClient(c.PushHTTPConfig, "--push-http-config-file", "perfbase-push")
		if err != nil {
			return badInput(err)
		}
		o.Push = &exporter.PushOptions{URL: c.PushURL, Kind: c.PushKind, Interval: c.PushInterval, Client: client}
	}
	if c.RecordURL != "" {
		cfg := config.DefaultHTTPClientConfig
		if c.RecordHTTPConfig != "" {
			hc, _, err := config.LoadHTTPConfigFile(c.RecordHTTPConfig)
			if err != nil {
				return badInput(fmt.Errorf("--record-http-config-file: %w", err))
			}
			cfg = *hc
		}
		o.RecordRemote = &runner.RecordRemote{URL: c.RecordURL, HTTPConfig: cfg}
	}
	if p := c.progressPrinter(g); p != nil {
		o.Progress = p.Print
	}
	if c.Failures != "" {
		if c.FailuresPerKind < 1 {
			return badInput(fmt.Errorf("--failures-per-kind must be positive, not %d", c.FailuresPerKind))
		}
		o.Failures = loader.NewFailureSamples(c.FailuresPerKind, s)
	}
	o.Summary = func(sum *loader.Summary) error {
		var errs []error
		if c.Failures != "" {
			// Written first, so that the summary can point to it.
			n, err := writeFailures(c.Failures, o.Failures)
			if err != nil {
				errs = append(errs, fmt.Errorf("--failures: %w", err))
			} else {
				sum.FailuresFile = c.Failures
				g.Logger.Info("failure samples written", "file", c.Failures, "samples", n)
			}
		}
		if err := sum.WriteTable(g.Stdout); err != nil {
			errs = append(errs, fmt.Errorf("write summary: %w", err))
		}
		if c.SummaryJSON != "" {
			errs = append(errs, writeSummaryJSON(c.SummaryJSON, sum, g))
		}
		return errors.Join(errs...)
	}
	res, err := runner.Run(g.Context(), o)
	var ie *runner.InputError
	switch {
	case errors.As(err, &ie):
		return badInput(ie.Err)
	case err != nil:
		return err
	}
	sum, runErr := res.Summary, res.LoadErr
	switch {
	case errors.Is(runErr, loader.ErrGuardAborted), errors.Is(runErr, loader.ErrSetupFailed):
		return failed(runErr)
	case sum.TeardownFailed:
		return failed(fmt.Errorf("run %s: teardown failed", sum.RunID))
	case runErr != nil:
		return fmt.Errorf("run %s: %w", sum.RunID, runErr)
	case sum.Interrupted:
		return g.interrupted(errors.New("run interrupted; the summary covers what ran"))
	case !sum.Passed:
		return failed(fmt.Errorf("run %s: thresholds failed: %s", sum.RunID, failedThresholds(sum)))
	}
	return nil
}

// writeFailures writes the failure samples to path, atomically.
func writeFailures(path string, f *loader.FailureSamples) (int, error) {
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	n, err := f.WriteJSONLines(out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return 0, err
	}
	return n, nil
}

func (c *RunCmd) progressPrinter(g *Globals) *loader.ProgressPrinter {
	switch c.Progress {
	case "off":
		return nil
	case "plain":
		return &loader.ProgressPrinter{W: g.Stderr}
	}
	return &loader.ProgressPrinter{W: g.Stderr, Terminal: isTerminal(g.Stderr)}
}

func writeSummaryJSON(path string, sum *loader.Summary, g *Globals) error {
	if path == "-" {
		return sum.WriteJSON(g.Stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("summary JSON: %w", err)
	}
	if err := sum.WriteJSON(f); err != nil {
		return fmt.Errorf("summary JSON %s: %w", path, errors.Join(err, f.Close()))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("summary JSON %s: %w", path, err)
	}
	return nil
}

func failedThresholds(sum *loader.Summary) string {
	var out []string
	for _, is := range sum.Interfaces {
		for _, t := range is.Thresholds {
			if !t.Passed {
				b, _ := json.Marshal(t.Actual)
				out = append(out, fmt.Sprintf("%s %s %s %g (actual %s)", is.Name, t.Name, t.Operator, t.Limit, b))
			}
		}
	}
	return strings.Join(out, "; ")
}
