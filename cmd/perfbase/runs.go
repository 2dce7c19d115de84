package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/perfbase/perfbase/analyzer"
)

// RunsCmd lists recorded pressure-test runs.
type RunsCmd struct {
	URL            string        `name:"url" help:"Prometheus-compatible server holding the run records; empty = the embedded store."`
	HTTPConfigFile string        `name:"http-config-file" help:"HTTP client config (auth, TLS) for --url, in Prometheus' http_config YAML." type:"existingfile"`
	DataDir        string        `name:"data-dir" help:"Embedded store directory." default:"perfbase-data" type:"path"`
	Timeout        time.Duration `help:"Query timeout." default:"2m"`
	Scenario       string        `help:"Only runs of this scenario."`
	Since          time.Duration `help:"Runs that started within this long before --until." default:"8760h"`
	Until          string        `help:"Runs that started before this time (RFC 3339 or YYYY-MM-DD); default: now." placeholder:"TIME"`
	Format         string        `help:"Output: table or json." default:"table" enum:"table,json"`
}

// Help shows examples under the flags.
func (c *RunsCmd) Help() string {
	return `Every 'perfbase run' (each shard) and every imported run leaves a record: its totals per
interface and per-minute windows. 'perfbase report --run ID' compares a run with others.

Examples:
  perfbase runs
  perfbase runs --scenario top-mixed --since 2160h --format json
  perfbase runs --url http://prometheus:9090`
}

// Run lists the runs.
func (c *RunsCmd) Run(g *Globals) (err error) {
	to := time.Now()
	if c.Until != "" {
		if to, err = parseDay(c.Until); err != nil {
			return badInput(fmt.Errorf("--until: %w", err))
		}
	}
	if c.Since <= 0 {
		return badInput(fmt.Errorf("--since %s must be positive", c.Since))
	}
	f := analysisFlags{URL: c.URL, HTTPConfigFile: c.HTTPConfigFile, DataDir: c.DataDir, Timeout: c.Timeout}
	be, err := f.open(g)
	if err != nil {
		return badInput(err)
	}
	defer closeInto(&err, be, be.Name())
	runs, err := analyzer.ListRuns(g.Context(), be, analyzer.RunQuery{Scenario: c.Scenario, From: to.Add(-c.Since), To: to, Count: true})
	if err != nil {
		return reportFailed(err)
	}
	if c.Format == "json" {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		if runs == nil {
			runs = []analyzer.RunInfo{}
		}
		return enc.Encode(runs)
	}
	if len(runs) == 0 {
		fmt.Fprintf(g.Stdout, "no recorded run in %s from %s to %s\n", be.Name(), to.Add(-c.Since).UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
		return nil
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSCENARIO\tSTART (UTC)\tDURATION\tSHARDS\tINTERFACES\tREQUESTS\tSTATUS\tTHRESHOLDS")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%.0f\t%s\t%s\n", r.RunID, r.Scenario, r.Start.UTC().Format("2006-01-02 15:04:05"),
			r.End.Sub(r.Start).Round(time.Second), r.Recorded, r.Shards, r.Interfaces, r.Requests, r.Status, r.Thresholds)
	}
	return tw.Flush()
}

// parseDay reads RFC 3339 or a date (midnight UTC).
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return t, nil
}
