package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/perfbase/perfbase/analyzer"
)

// BaselineCmd groups the baseline commands.
type BaselineCmd struct {
	Save BaselineSaveCmd `cmd:"" help:"Compute a baseline and save it as a versioned JSON file."`
}

// BaselineSaveCmd writes the baseline a report for --before would use.
type BaselineSaveCmd struct {
	analysisFlags `embed:""`

	Out    string   `required:"" help:"File to write." type:"path"`
	Runs   []string `name:"run" help:"Freeze these pressure-test runs as the baseline (repeatable), for 'perfbase report --run ID --baseline-file'." placeholder:"RUN_ID"`
	Before string   `help:"The baseline is the months before this one (YYYY-MM); default: the current month." placeholder:"YYYY-MM"`
}

// Help shows examples under the flags.
func (c *BaselineSaveCmd) Help() string {
	return `The file keeps, per interface, the period metrics, the outcome counts, the daily values and the
bucket layout, so 'perfbase report --baseline-file' still works after the backend dropped the data.

Examples:
  perfbase baseline save --out q1-2025.json --before 2025-04
  perfbase baseline save --out release-7.2.json --run release-7.2-run1 --run release-7.2-run2
  perfbase baseline save --out run.json --baseline-run release-7.2`
}

// Run computes and saves the baseline.
func (c *BaselineSaveCmd) Run(g *Globals) (err error) {
	o, pin, err := c.options(g)
	if err != nil {
		return badInput(err)
	}
	switch len(c.BaselineRun) {
	case 0:
	case 1:
		pin.RunID = c.BaselineRun[0]
	default:
		return badInput(errors.New("--baseline-run: one run; freeze several with --run"))
	}
	if pin.Month != nil && pin.RunID != "" {
		return badInput(errors.New("--baseline-month and --baseline-run exclude each other"))
	}
	if len(c.Runs) > 0 {
		if pin.Month != nil || pin.RunID != "" || c.Before != "" {
			return badInput(errors.New("--run freezes runs; it excludes --before, --baseline-month and --baseline-run"))
		}
		return c.saveRuns(g, o)
	}
	month := analyzer.MonthOf(time.Now(), o.Location)
	if c.Before != "" {
		if month, err = analyzer.ParseMonth(c.Before); err != nil {
			return badInput(fmt.Errorf("--before: %w", err))
		}
	}
	be, err := c.open(g)
	if err != nil {
		return badInput(err)
	}
	defer closeInto(&err, be, be.Name())
	b, err := analyzer.BuildBaseline(g.Context(), be, o, pin, month)
	if errors.Is(err, analyzer.ErrInvalidOptions) {
		return badInput(err)
	} else if err != nil {
		return err
	}
	if len(b.Interfaces) == 0 {
		return failed(fmt.Errorf("no steady-phase data for a baseline (%s)", b.Source))
	}
	if err := b.Save(c.Out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "saved baseline %s of %d interfaces to %s\n", b.Source, len(b.Interfaces), c.Out)
	return nil
}

// saveRuns freezes runs as a baseline file.
func (c *BaselineSaveCmd) saveRuns(g *Globals, o analyzer.Options) (err error) {
	be, err := c.open(g)
	if err != nil {
		return badInput(err)
	}
	defer closeInto(&err, be, be.Name())
	b, err := analyzer.BuildRunBaseline(g.Context(), be, o, c.Runs)
	if err != nil {
		return reportFailed(err)
	}
	if err := b.Save(c.Out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "saved baseline %s of %d interfaces to %s\n", b.Source, len(b.Interfaces), c.Out)
	return nil
}
