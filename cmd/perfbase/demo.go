package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/render"
	"github.com/perfbase/perfbase/internal/backend"
	"github.com/perfbase/perfbase/internal/demotarget"
	"github.com/perfbase/perfbase/internal/runner"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
	"github.com/perfbase/perfbase/loader/scenario"
)

// DemoCmd is the newcomer's first command: it needs no server and no file.
type DemoCmd struct {
	DataDir string `help:"Store for the demo's history and live run; recreated on every demo (never your archive)." default:"perfbase-demo-data" type:"path"`
	Months  int    `help:"Months of history to generate before the current month." default:"6"`
	HTML    string `help:"Also write the report as a self-contained HTML file." placeholder:"FILE" type:"path"`
	Listen  string `help:"Also serve the live run's /metrics on this address." placeholder:"ADDR"`
}

// Help is shown by --help.
func (c *DemoCmd) Help() string {
	return `On an embedded store in --data-dir, with no server:
  1. writes months of realistic nightly load-test history for three demo
     interfaces (weekly pattern, noise, missing days), where recharge got
     35% slower at the start of the last complete month;
  2. runs a short live mixed load test against the demo service, started
     in-process on loopback, recording it into the same store;
  3. prints the monthly report of the last complete month against its
     3-month baseline: recharge regressed, the others are stable.

Then explore the store with, e.g.:
  perfbase query --data-dir perfbase-demo-data 'sum by (interface) (perfbase_requests_total)'
  perfbase report --data-dir perfbase-demo-data --format html -o report.html`
}

// Run implements the command.
func (c *DemoCmd) Run(g *Globals) (err error) {
	if c.Months < 4 || c.Months > 36 {
		return badInput(fmt.Errorf("--months %d: want 4 to 36 (a 3-month baseline, the report month and trends)", c.Months))
	}
	if err := demotarget.ResetDir(c.DataDir); err != nil {
		return badInput(fmt.Errorf("--data-dir: %w", err))
	}
	db, err := store.Open(c.DataDir, store.DefaultOptions())
	if err != nil {
		return badInput(fmt.Errorf("--data-dir: %w", err))
	}
	defer closeInto(&err, db, "--data-dir "+c.DataDir)
	ctx := g.Context()

	now := time.Now().UTC()
	reportMonth := analyzer.MonthOf(now, time.UTC).Add(-1)
	fmt.Fprintf(g.Stdout, "1/3 Writing %d months of demo history into %s ...\n", c.Months+1, c.DataDir)
	began := time.Now()
	hist := demotarget.History(reportMonth, c.Months, now)
	samples, err := demotarget.WriteHistory(ctx, db, hist)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(g.Stdout, "    %d samples, %s to %s, in %s\n\n", samples,
		hist.Start.Format(time.DateOnly), hist.End.Add(-time.Second).Format(time.DateOnly), time.Since(began).Round(time.Millisecond))

	sum, err := c.live(g, db)
	if err != nil {
		return err
	}
	if sum.Interrupted {
		return g.interrupted(errors.New("demo interrupted"))
	}

	fmt.Fprintf(g.Stdout, "\n3/3 Monthly report for %s (baseline: the 3 months before):\n\n", reportMonth)
	o := analyzer.DefaultOptions()
	rep, err := analyzer.BuildReport(ctx, backend.Embedded(db), o, analyzer.BaselineOptions{}, reportMonth)
	if err != nil {
		return fmt.Errorf("demo: report: %w", err)
	}
	color := isTerminal(g.Stdout) && os.Getenv("NO_COLOR") == ""
	if err := render.Render(g.Stdout, rep, render.FormatTable, render.Options{Color: color}); err != nil {
		return fmt.Errorf("demo: report: %w", err)
	}
	if c.HTML != "" {
		f, err := os.Create(c.HTML)
		if err != nil {
			return badInput(fmt.Errorf("--html: %w", err))
		}
		if err := render.Render(f, rep, render.FormatHTML, render.Options{}); err != nil {
			return fmt.Errorf("demo: HTML report: %w", errors.Join(err, f.Close()))
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("demo: HTML report: %w", err)
		}
		fmt.Fprintf(g.Stdout, "\nHTML report: %s\n", c.HTML)
	}
	fmt.Fprintf(g.Stdout, "\nThe demo's history and live run stay in %s: try\n  perfbase query --data-dir %s 'sum by (interface, outcome) (perfbase_requests_total{run_id=%q})'\n  perfbase runs --data-dir %s    # the live run's record, what 'perfbase report --run' compares\n",
		c.DataDir, c.DataDir, sum.RunID, c.DataDir)
	// A regression is what the demo shows, not a failure of the demo.
	return nil
}

// live runs the demo scenario against the in-process demo service and
// records it into db.
func (c *DemoCmd) live(g *Globals, db *store.DB) (_ *loader.Summary, err error) {
	target, stopTarget, err := demotarget.Start()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, stopTarget()) }()
	s, err := scenario.Parse(demotarget.Scenario(target), "demo scenario")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	o := runner.DefaultOptions()
	o.Scenario, o.DB, o.StoreInterval = s, db, 2*time.Second
	o.RunID = "demo-" + time.Now().UTC().Format("20060102T150405Z")
	o.Listen, o.Logger, o.Quit = c.Listen, g.Logger, g.Quit()
	o.Progress = (&loader.ProgressPrinter{W: g.Stderr, Terminal: isTerminal(g.Stderr)}).Print
	o.Summary = func(sum *loader.Summary) error { return sum.WriteTable(g.Stdout) }
	fmt.Fprintf(g.Stdout, "2/3 Live load test %q against the demo service at %s (%s):\n\n", o.RunID, target, s.TotalDuration())
	res, err := runner.Run(g.Context(), o)
	var ie *runner.InputError
	switch {
	case errors.As(err, &ie):
		return nil, badInput(ie.Err)
	case err != nil:
		return nil, fmt.Errorf("demo: %w", err)
	case res.LoadErr != nil:
		return nil, fmt.Errorf("demo: %w", res.LoadErr)
	}
	return res.Summary, nil
}
