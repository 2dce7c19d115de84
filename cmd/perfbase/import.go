package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/internal/importer"
	"github.com/perfbase/perfbase/internal/store"
)

// ImportCmd imports past results (JMeter JTL, vegeta JSON) as runs.
type ImportCmd struct {
	Files []string `arg:"" help:"JTL CSV files or vegeta JSON-lines files (.json/.jsonl); each becomes a run." type:"existingfile"`

	Format   string        `help:"Input format: jtl, vegeta, or auto (by extension)." default:"auto" enum:"auto,jtl,vegeta"`
	RunID    string        `name:"run-id" help:"run_id of the imported run (one file only); default: the file name without extension."`
	Scenario string        `help:"scenario label of perfbase_run_info; default: the run_id."`
	Map      []string      `help:"REGEX=interface: name the interface of JTL labels / vegeta URLs matching REGEX (first match wins; else the sanitised label or URL path)."`
	Expect   string        `help:"HTTP statuses counted as system success." default:"200-399"`
	Interval time.Duration `help:"Sample interval of the cumulative counters." default:"${import_interval}"`

	MaxMalformed int `name:"max-malformed" help:"Skip and report up to this many malformed rows per file; one more aborts the file. -1: no limit." default:"${import_max_malformed}"`

	To             string `help:"Destination: store (the embedded store), openmetrics (a file for promtool tsdb create-blocks-from openmetrics), remote-write, vm-import (VictoriaMetrics /api/v1/import/prometheus)." default:"store" enum:"store,openmetrics,remote-write,vm-import"`
	Out            string `help:"The OpenMetrics file, or the URL for remote-write (e.g. http://prom:9090/api/v1/write) and vm-import (e.g. http://vm:8428)."`
	HTTPConfigFile string `name:"http-config-file" help:"HTTP client config (auth, TLS) for remote-write and vm-import." type:"existingfile"`
	DataDir        string `name:"data-dir" help:"Embedded store directory." default:"perfbase-data" type:"path"`
}

// Help shows examples under the flags.
func (c *ImportCmd) Help() string {
	return `Examples:
  perfbase import results-2025-01.jtl results-2025-02.jtl
  perfbase import --map '/api/balance=query_balance' --map '/api/recharge=recharge' attack.json
  perfbase import --to openmetrics --out runs.om *.jtl && promtool tsdb create-blocks-from openmetrics --max-block-duration=1458h runs.om data/
  perfbase import --to vm-import --out http://victoria:8428 old.jtl`
}

// Run imports every file; a file that fails is not written and makes the
// exit code non-zero, the others are imported all the same (except to an
// OpenMetrics file, written only when all succeed).
func (c *ImportCmd) Run(g *Globals) (err error) {
	o := importer.DefaultOptions()
	var errs []error
	if c.RunID != "" && len(c.Files) > 1 {
		errs = append(errs, errors.New("--run-id: only with one file (each file is a run)"))
	}
	o.RunID, o.Scenario, o.MaxMalformed = c.RunID, c.Scenario, c.MaxMalformed
	if c.Format != "auto" {
		o.Format = c.Format
	}
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("--interval must be at least 1s, got %s", c.Interval))
	}
	o.Interval = c.Interval
	st, err := importer.ParseStatusSet(c.Expect)
	if err != nil {
		errs = append(errs, fmt.Errorf("--expect: %w", err))
	}
	o.Expected = st
	for _, m := range c.Map {
		r, err := importer.ParseMapRule(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("--map: %w", err))
			continue
		}
		o.Rules = append(o.Rules, r)
	}
	if c.To != "store" && c.Out == "" {
		errs = append(errs, fmt.Errorf("--to %s needs --out", c.To))
	}
	if c.To == "store" && c.Out != "" {
		errs = append(errs, errors.New("--out is for --to openmetrics, remote-write or vm-import"))
	}
	if len(errs) > 0 {
		return badInput(errors.Join(errs...))
	}
	httpCfg := config.DefaultHTTPClientConfig
	if c.HTTPConfigFile != "" {
		cfg, _, err := config.LoadHTTPConfigFile(c.HTTPConfigFile)
		if err != nil {
			return badInput(fmt.Errorf("--http-config-file: %w", err))
		}
		httpCfg = *cfg
	}

	var dest importer.Destination
	switch c.To {
	case "store":
		db, oerr := store.Open(c.DataDir, store.DefaultOptions())
		if oerr != nil {
			return oerr
		}
		defer closeInto(&err, db, "--data-dir "+c.DataDir)
		dest = importer.StoreDestination{DB: db}
	case "openmetrics":
		dest, err = importer.NewOpenMetricsDestination(c.Out)
	case "remote-write":
		dest, err = importer.NewRemoteWriteDestination(c.Out, httpCfg)
	case "vm-import":
		dest, err = importer.NewVMImportDestination(c.Out, httpCfg)
	}
	if err != nil {
		return badInput(err)
	}
	o.Progress, o.Terminal = g.Stderr, isTerminal(g.Stderr)

	failedFiles := 0
	for _, f := range c.Files {
		if g.Context().Err() != nil {
			failedFiles++ // interrupted before this file
			continue
		}
		res := importer.ImportFile(g.Context(), f, o, dest)
		for _, m := range res.MalformedRows {
			fmt.Fprintf(g.Stderr, "malformed: %s\n", m)
		}
		if res.Malformed > len(res.MalformedRows) {
			fmt.Fprintf(g.Stderr, "malformed: ... %d more in %s\n", res.Malformed-len(res.MalformedRows), f)
		}
		if res.Err != nil {
			failedFiles++
			fmt.Fprintf(g.Stderr, "perfbase: import %s: NOT imported: %v\n", f, res.Err)
			if res.NotUndone != "" {
				fmt.Fprintf(g.Stderr, "perfbase: import %s: %s\n", f, res.NotUndone)
			}
			continue
		}
		fmt.Fprintf(g.Stdout, "imported %s as run_id=%q: %d rows, %d malformed skipped, %d late, %s .. %s, interfaces %s, %d samples, %s\n",
			f, res.RunID, res.Rows, res.Malformed, res.Late, res.First.Format(time.RFC3339), res.Last.Format(time.RFC3339),
			strings.Join(res.Interfaces, ","), res.Samples, res.Where)
		if len(res.Records) > 1 {
			fmt.Fprintf(g.Stdout, "  %d test sessions more than an hour apart, recorded as runs %s\n", len(res.Records), strings.Join(res.Records, ", "))
		}
	}
	if err := dest.Close(g.Context(), failedFiles == 0); err != nil {
		return err
	}
	if g.Context().Err() != nil {
		return g.interrupted(fmt.Errorf("import interrupted: %d of %d files not imported", failedFiles, len(c.Files)))
	}
	if failedFiles > 0 {
		if c.To == "openmetrics" {
			return failed(fmt.Errorf("%d of %d files failed; %s was not written", failedFiles, len(c.Files), c.Out))
		}
		return failed(fmt.Errorf("%d of %d files failed and were not imported", failedFiles, len(c.Files)))
	}
	return nil
}
