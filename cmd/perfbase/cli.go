package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"

	"github.com/prometheus/common/promslog"
)

// CLI lists every command; each lives in a file of its own.
type CLI struct {
	GlobalFlags

	Demo       DemoCmd       `cmd:"" help:"Show perfbase on its built-in demo service: no server, no file needed."`
	Run        RunCmd        `cmd:"" help:"Drive a scenario's load and export its metrics."`
	DemoTarget DemoTargetCmd `cmd:"" name:"demo-target" help:"Serve the demo business service to load."`
	Dashboards DashboardsCmd `cmd:"" help:"Generate Grafana dashboards, optionally upload them."`
	Serve      ServeCmd      `cmd:"" help:"Expose a saved baseline as Prometheus gauges; reloads on SIGHUP."`
	Alerts     AlertsCmd     `cmd:"" help:"Generate Prometheus recording and alerting rules with promtool tests."`
	Import     ImportCmd     `cmd:"" help:"Import past results (JMeter JTL, vegeta JSON) as runs, with their original timestamps."`
	Query      QueryCmd      `cmd:"" help:"Run PromQL on the embedded store or a Prometheus-compatible server."`
	Report     ReportCmd     `cmd:"" help:"Compare a run with its baseline runs, or a month with its baseline: verdicts, trends, change points."`
	Runs       RunsCmd       `cmd:"" help:"List recorded pressure-test runs."`
	Store      StoreCmd      `cmd:"" help:"List or delete the embedded store's blocks (repair a store a bad import broke)."`
	Baseline   BaselineCmd   `cmd:"" help:"Save baselines for later comparisons."`
	Validate   ValidateCmd   `cmd:"" help:"Check scenario files without sending anything."`
	Version    VersionCmd    `cmd:"" help:"Print the version."`
}

// GlobalFlags apply to every command.
type GlobalFlags struct {
	LogLevel  string `help:"Log level: debug, info, warn, error." default:"info" enum:"debug,info,warn,error"`
	LogFormat string `help:"Log format: logfmt or json." default:"logfmt" enum:"logfmt,json"`
	// CPUProfile is for finding where a command's time goes (BENCHMARKS.md).
	CPUProfile string `name:"cpu-profile" help:"Write a Go CPU profile of the command to this file." placeholder:"FILE" hidden:""`
}

// Globals is what every command's Run receives: the writers, the logger and
// a context cancelled on SIGINT or SIGTERM.
type Globals struct {
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger
	ctx    context.Context
	quit   <-chan struct{}
	signal func() os.Signal // the first stop signal, nil before one
}

// Context is cancelled when the user asks perfbase to stop.
func (g *Globals) Context() context.Context { return g.ctx }

// Quit is closed when the user asks a second time: stop waiting now.
func (g *Globals) Quit() <-chan struct{} { return g.quit }

// interrupted is the exit code of a command a signal stopped: 143 after
// SIGTERM, else 130 (SIGINT, or a stop with no signal seen).
func (g *Globals) interrupted(err error) error {
	code := exitInterrupted
	if g.signal != nil && g.signal() == syscall.SIGTERM {
		code = exitTerminated
	}
	return &exitError{code: code, err: err}
}

func (g *Globals) setup(f *GlobalFlags) error {
	lvl := promslog.NewLevel()
	if err := lvl.Set(f.LogLevel); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	format := promslog.NewFormat()
	if err := format.Set(f.LogFormat); err != nil {
		return fmt.Errorf("--log-format: %w", err)
	}
	g.Logger = promslog.New(&promslog.Config{Level: lvl, Format: format, Writer: g.Stderr})
	return nil
}
