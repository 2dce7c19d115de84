package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/perfbase/perfbase/exporter"
	"github.com/perfbase/perfbase/internal/store"
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
	NativeHistograms bool          `help:"Add native histogram buckets to the latency histogram (for backends that ingest them)."`
	PushURL          string        `help:"Push the metrics at the end (and every --push-interval) to this Pushgateway or VictoriaMetrics URL." placeholder:"URL"`
	PushKind         string        `help:"What --push-url is: pushgateway or victoriametrics." default:"pushgateway" enum:"pushgateway,victoriametrics"`
	PushInterval     time.Duration `help:"Push during the run at this interval; 0 pushes at the end only." default:"0s"`
	Progress         string        `help:"Progress display: auto (redrawn on a terminal, lines every 10s otherwise), plain or off." default:"auto" enum:"auto,plain,off"`
	DataDir          string        `help:"Embedded store the run records itself into (query it with 'perfbase query')." default:"perfbase-data" type:"path"`
	NoStore          bool          `help:"Do not record the run into the embedded store (Prometheus scrapes it, or --push-url)."`
	StoreInterval    time.Duration `help:"How often the run's metrics are recorded into the embedded store." default:"5s"`
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

var runIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// Run implements the command.
func (c *RunCmd) Run(g *Globals) (err error) {
	s, err := scenario.Load(c.Scenario)
	if err != nil {
		return badInput(err)
	}
	start := time.Now()
	if c.RunID == "" {
		c.RunID = s.Name + "-" + start.UTC().Format("20060102T1504Z")
	}
	if !runIDRe.MatchString(c.RunID) {
		return badInput(fmt.Errorf("--run-id %q: use letters, digits and _.:- (at most 128)", c.RunID))
	}
	metrics, err := exporter.New(exporter.Options{
		RunID: c.RunID, Scenario: s.Name, Mode: s.Mode, Shard: c.Shard.String(),
		NativeHistograms: c.NativeHistograms,
	})
	if err != nil {
		return badInput(err)
	}
	var pusher *exporter.Pusher
	if c.PushURL != "" {
		pusher, err = exporter.NewPusher(exporter.PushOptions{
			URL: c.PushURL, Kind: c.PushKind, Interval: c.PushInterval,
			RunID: c.RunID, Shard: c.Shard.String(),
		}, metrics.Registry())
		if err != nil {
			return badInput(err)
		}
	}
	if c.StoreInterval <= 0 {
		return badInput(fmt.Errorf("--store-interval %s must be positive", c.StoreInterval))
	}
	var db *store.DB
	if !c.NoStore {
		db, err = store.Open(c.DataDir, store.DefaultOptions())
		if err != nil {
			return badInput(fmt.Errorf("--data-dir: %w", err))
		}
		defer closeInto(&err, db, "--data-dir "+c.DataDir)
	}
	var srv *exporter.Server
	if c.Listen != "" {
		// Bound before any load, so a port in use costs nothing.
		srv, err = exporter.Listen(c.Listen, metrics.Registry(), g.Logger)
		if err != nil {
			return badInput(err)
		}
		g.Logger.Info("serving metrics", "address", srv.Addr())
	}

	g.Logger.Info("run started", "scenario", s.Name, "run_id", c.RunID, "target", s.RedactedTarget(),
		"mode", s.Mode, "shard", c.Shard.String(), "duration", s.TotalDuration())
	ctx := g.Context()
	bgCtx, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if pusher != nil {
		go pusher.Run(bgCtx, g.Logger)
	}
	var scraper *store.Scraper
	if db != nil {
		scraper = store.NewScraper(db, metrics.RunGatherer(), c.StoreInterval, nil)
		scraper.Start(bgCtx)
	}
	opts := loader.Options{Recorder: metrics, Shard: c.Shard, Logger: g.Logger}
	if p := c.progressPrinter(g); p != nil {
		opts.Progress = p.Print
	}
	sum, runErr := loader.Run(ctx, s, opts)
	if sum == nil {
		return fmt.Errorf("run %s: %w", c.RunID, runErr)
	}
	sum.RunID = c.RunID
	sum.Shard = c.Shard.String()
	metrics.Finish(sum)
	stopBG()

	// Everything after the load must happen even when it was interrupted:
	// the summary and the final push are the run's record.
	var errs []error
	if scraper != nil {
		// The final scrape holds the run's end state.
		if err := scraper.Stop(); err != nil {
			errs = append(errs, err)
		} else {
			g.Logger.Info("run recorded in the embedded store", "data_dir", db.Dir())
		}
	}
	if err := sum.WriteTable(g.Stdout); err != nil {
		errs = append(errs, fmt.Errorf("write summary: %w", err))
	}
	if c.SummaryJSON != "" {
		if err := writeSummaryJSON(c.SummaryJSON, sum, g); err != nil {
			errs = append(errs, err)
		}
	}
	if pusher != nil {
		pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := pusher.Push(pctx); err != nil {
			errs = append(errs, err)
		} else {
			g.Logger.Info("metrics pushed", "kind", c.PushKind)
		}
		cancel()
	}
	if srv != nil {
		if c.Linger > 0 {
			lingerFor(ctx, c.Linger, g)
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	switch {
	case errors.Is(runErr, loader.ErrGuardAborted):
		return failed(runErr)
	case runErr != nil:
		return fmt.Errorf("run %s: %w", c.RunID, runErr)
	case sum.Interrupted:
		return &exitError{code: exitInterrupted, err: errors.New("run interrupted; the summary covers what ran")}
	case !sum.Passed:
		return failed(fmt.Errorf("run %s: thresholds failed: %s", c.RunID, failedThresholds(sum)))
	}
	return nil
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

// lingerFor keeps /metrics served after the run so that the last scrape
// sees its final state, also after Ctrl-C; once the run was interrupted, a
// second Ctrl-C ends the wait.
func lingerFor(ctx context.Context, d time.Duration, g *Globals) {
	stop := ctx.Done()
	if ctx.Err() != nil {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		g.Logger.Info("run interrupted; serving metrics until --linger elapses (Ctrl-C again to quit now)", "linger", d)
		stopSig := make(chan struct{})
		go func() {
			select {
			case <-sig:
			case <-time.After(d):
			}
			close(stopSig)
		}()
		stop = stopSig
	} else {
		g.Logger.Info("run ended; serving metrics until --linger elapses", "linger", d)
	}
	select {
	case <-time.After(d):
	case <-stop:
	}
}
