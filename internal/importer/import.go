package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options of an import.
type Options struct {
	// Format is "jtl", "vegeta", or "" to pick by extension (.json/.jsonl
	// are vegeta, anything else JTL).
	Format string
	// RunID overrides the run_id (default: the file name without extension).
	RunID string
	// Scenario and Mode go into perfbase_run_info. Default Scenario: the run_id;
	// default Mode: "imported".
	Scenario string
	Mode     string
	// Interval between samples of the cumulative counters. Default 15s.
	Interval time.Duration
	// Reorder is how far out of time order rows may be. Default 5m.
	Reorder time.Duration
	// Idle is how long an interface is still sampled after its last row.
	// Default 1m.
	Idle time.Duration
	// MaxMalformed malformed rows are skipped and reported; one more aborts
	// the file (nothing of it is written). Default 100; negative: no limit.
	MaxMalformed int
	// MaxInterfaces bounds the interfaces of one run. Default 200.
	MaxInterfaces int
	// Expected HTTP statuses. Default 200-399.
	Expected StatusSet
	// Rules map JTL labels / vegeta URLs to interface names.
	Rules []MapRule
	// Progress, when set, gets progress lines; on a terminal (Terminal) one
	// line redrawn in place.
	Progress io.Writer
	Terminal bool
}

// DefaultOptions returns the defaults described on Options.
func DefaultOptions() Options {
	st, _ := ParseStatusSet("200-399")
	return Options{
		Mode: "imported", Interval: 15 * time.Second, Reorder: 5 * time.Minute, Idle: time.Minute,
		MaxMalformed: 100, MaxInterfaces: 200, Expected: st,
	}
}

// Result reports one imported file.
type Result struct {
	File  string
	RunID string
	// Rows read successfully, Malformed rows skipped (the first ones are
	// listed in MalformedRows), Late rows counted in a later sample.
	Rows, Malformed, Late int
	MalformedRows         []string
	Samples               int
	First, Last           time.Time
	Interfaces            []string
	// Records are the run ids of the run records written: one per test
	// session of the file (sessions more than an hour apart are separate
	// runs: the run id, then run id-2, -3...).
	Records []string
	// Where says where the run went, when committed.
	Where string
	// Err is why the run was not committed; NotUndone says what a remote
	// server kept anyway.
	Err       error
	NotUndone string
}

// maxListed malformed rows are listed in Result.MalformedRows.
const maxListed = 20

// ImportFile imports one file as one run into dest. The run is committed
// only if the whole file was read within MaxMalformed; otherwise nothing
// of it is (except what a remote server already accepted, see NotUndone).
func ImportFile(ctx context.Context, path string, o Options, dest Destination) Result {
	res := Result{File: path, RunID: o.RunID}
	if res.RunID == "" {
		res.RunID = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if err := importFile(ctx, path, o, dest, &res); err != nil {
		res.Err = err
	}
	return res
}

func importFile(ctx context.Context, path string, o Options, dest Destination, res *Result) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close() //nolint:errcheck // opened read-only: closing loses nothing
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	cr := &countingReader{r: f}
	namer := &Namer{Rules: o.Rules}
	format := o.Format
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json", ".jsonl", ".ndjson":
			format = "vegeta"
		default:
			format = "jtl"
		}
	}
	var rd Reader
	switch format {
	case "jtl":
		rd, err = NewJTLReader(path, cr, namer, o.Expected)
		if err != nil {
			return err
		}
	case "vegeta":
		rd = NewVegetaReader(path, cr, namer, o.Expected)
	default:
		return fmt.Errorf("unknown format %q: want jtl or vegeta", format)
	}

	sink, err := dest.Begin(ctx, res.RunID)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			res.NotUndone = sink.Abort()
		}
	}()
	scenario := o.Scenario
	if scenario == "" {
		scenario = res.RunID
	}
	agg := newAggregator(res.RunID, scenario, o.Mode, o.Interval, o.Reorder, o.Idle, o.MaxInterfaces, sink)
	prog := progress{w: o.Progress, terminal: o.Terminal, file: path, size: size, start: time.Now()}
	seen := map[string]bool{}
	for read := 1; ; read++ {
		// Every 16k rows, valid or not: an endless stream of malformed
		// rows still shows progress and still stops on Ctrl-C.
		if read&0x3fff == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("interrupted; nothing of this file was written: %w", err)
			}
			prog.show(cr.n, res.Rows, res.Malformed, false)
		}
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			res.Malformed++
			if len(res.MalformedRows) < maxListed {
				res.MalformedRows = append(res.MalformedRows, re.Error())
			}
			if o.MaxMalformed >= 0 && res.Malformed > o.MaxMalformed {
				return fmt.Errorf("more than %d malformed rows (the last: %w); nothing of this file was written", o.MaxMalformed, re)
			}
			continue
		}
		if err != nil {
			return err
		}
		res.Rows++
		if !seen[rec.Interface] {
			seen[rec.Interface] = true
			res.Interfaces = append(res.Interfaces, rec.Interface)
		}
		if err := agg.add(rec); err != nil {
			return fmt.Errorf("%s: row %d: %w", path, res.Rows+res.Malformed, err)
		}
	}
	if err := agg.finish(); err != nil {
		return err
	}
	if err := agg.writeRecords(); err != nil {
		return err
	}
	for _, r := range agg.records() {
		res.Records = append(res.Records, r.Meta.RunID)
	}
	prog.show(cr.n, res.Rows, res.Malformed, true)
	res.Samples, res.Late = agg.samples, agg.late
	if res.Rows == 0 {
		return errors.New("no valid rows; nothing was written")
	}
	res.First, res.Last = time.UnixMilli(agg.first).UTC(), time.UnixMilli(agg.last).UTC()
	where, err := sink.Commit(ctx)
	if err != nil {
		return err
	}
	committed = true
	res.Where = where
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress prints at most one line a second (five a second in place on a
// terminal).
type progress struct {
	w        io.Writer
	terminal bool
	file     string
	size     int64
	start    time.Time
	last     time.Time
}

func (p *progress) show(read int64, rows, malformed int, done bool) {
	if p.w == nil {
		return
	}
	now := time.Now()
	every := time.Second
	if p.terminal {
		every = 200 * time.Millisecond
	}
	if !done && now.Sub(p.last) < every {
		return
	}
	p.last = now
	pct := 100.0
	if p.size > 0 {
		pct = 100 * float64(read) / float64(p.size)
	}
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(rows) / el
	}
	line := fmt.Sprintf("import %s: %5.1f%% %d rows %.0f rows/s %d malformed", filepath.Base(p.file), pct, rows, rate, malformed)
	if p.terminal {
		bar := strings.Repeat("#", int(pct/5)) + strings.Repeat(".", 20-int(pct/5))
		fmt.Fprintf(p.w, "\r[%s] %s", bar, line)
		if done {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}
