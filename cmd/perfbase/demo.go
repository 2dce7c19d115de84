package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/perfbase/perfbase/exporter"
	"github.com/perfbase/perfbase/internal/demotarget"
	"github.com/perfbase/perfbase/internal/scenario"
	"github.com/perfbase/perfbase/loader"
)

// DemoCmd is the newcomer's first command: it needs no server and no file.
type DemoCmd struct {
	Listen string `help:"Also serve the live run's /metrics on this address." placeholder:"ADDR"`
}

// Help is shown by --help.
func (c *DemoCmd) Help() string {
	return `Starts the demo business service on loopback, runs a short mixed load test
against it (warm-up, steady, ramp, campaign peak) and prints the summary.

Example:
  perfbase demo`
}

// Run implements the command.
func (c *DemoCmd) Run(g *Globals) error {
	ctx := g.Context()
	target, stopTarget, err := startDemoTarget()
	if err != nil {
		return err
	}
	defer stopTarget()

	s, err := scenario.Parse(demotarget.Scenario(target), "demo scenario")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	runID := "demo-" + time.Now().UTC().Format("20060102T1504Z")
	metrics, err := exporter.New(exporter.Options{RunID: runID, Scenario: s.Name, Mode: s.Mode})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if c.Listen != "" {
		srv, err := exporter.Listen(c.Listen, metrics.Registry(), g.Logger)
		if err != nil {
			return badInput(err)
		}
		defer srv.Shutdown(context.Background())
		g.Logger.Info("serving metrics", "address", srv.Addr())
	}
	fmt.Fprintf(g.Stdout, "Live load test %q against the demo service at %s (%s):\n\n", runID, target, s.TotalDuration())
	pp := &loader.ProgressPrinter{W: g.Stderr, Terminal: isTerminal(g.Stderr)}
	sum, runErr := loader.Run(ctx, s, loader.Options{Recorder: metrics, Logger: g.Logger, Progress: pp.Print})
	if sum == nil {
		return fmt.Errorf("demo: %w", runErr)
	}
	sum.RunID = runID
	metrics.Finish(sum)
	if err := sum.WriteTable(g.Stdout); err != nil {
		return err
	}
	if sum.Interrupted {
		return &exitError{code: exitInterrupted, err: errors.New("demo interrupted")}
	}
	return runErr
}

// startDemoTarget serves the demo service on a free loopback port.
func startDemoTarget() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo target: %w", err)
	}
	srv := &http.Server{Handler: demotarget.New(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
