package analyzer

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidOptions wraps every error about options or pinned baselines
// the caller gave: the user's input, not the data, is wrong.
var ErrInvalidOptions = errors.New("invalid analyzer options")

// Options tune what is queried and how verdicts are reached.
type Options struct {
	// Location defines calendar months and days (default UTC).
	Location *time.Location
	// BaselineMonths is how many months before the report month form the
	// default baseline.
	BaselineMonths int
	// TrendMonths is how many months, ending with the report month, the
	// trend (sparklines, charts, change points) covers.
	TrendMonths int
	// RunID restricts every query to one run_id ("" = all runs).
	RunID string
	// Resolution is the step of the sub-daily evaluation that finds active
	// time and peak throughput. It must be at least twice the scrape
	// interval: rates need two samples per step.
	Resolution time.Duration

	// LatencyTolerance is the relative latency change that matters (0.10 = 10%).
	LatencyTolerance float64
	// ThroughputTolerance is the relative throughput change that matters.
	ThroughputTolerance float64
	// SuccessTolerance is the absolute success ratio change that matters
	// (0.001 = 0.1 percentage point).
	SuccessTolerance float64
	// FDR is the false discovery rate of the Benjamini-Hochberg procedure
	// applied across all interfaces and metrics of a report.
	FDR float64
	// MinDays is the fewest days with data, in each period, for a rank test.
	MinDays int
	// MinRequests is the fewest completed requests, in each period, for a
	// proportion test.
	MinRequests float64
	// LoadRatio bounds current/baseline throughput for periods to be
	// comparable: outside [1/LoadRatio, LoadRatio] verdicts are not_comparable.
	LoadRatio float64
	// MinSegment is the shortest run of days between change points.
	MinSegment int

	// Parallel bounds the queries in flight at once (default 4).
	Parallel int
	// Batch is how many interfaces one query covers at most, bounding the
	// series a query holds in memory (default 10; 0 = all at once).
	Batch int

	// Now is the clock, injected for tests (stamps Created).
	Now func() time.Time
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{
		Location:            time.UTC,
		BaselineMonths:      3,
		TrendMonths:         6,
		Resolution:          time.Minute,
		LatencyTolerance:    0.10,
		ThroughputTolerance: 0.10,
		SuccessTolerance:    0.001,
		FDR:                 0.05,
		MinDays:             5,
		MinRequests:         100,
		LoadRatio:           2,
		MinSegment:          7,
		Parallel:            4,
		Batch:               10,
		Now:                 time.Now,
	}
}

func (o *Options) validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("analyzer: %s: "+format, append([]any{field}, a...)...))
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BaselineMonths < 1 || o.BaselineMonths > 24 {
		bad("baseline months", "%d is not between 1 and 24", o.BaselineMonths)
	}
	if o.TrendMonths < 1 || o.TrendMonths > 36 {
		bad("trend months", "%d is not between 1 and 36", o.TrendMonths)
	}
	if o.Resolution < time.Second {
		bad("resolution", "%s is under 1s", o.Resolution)
	}
	if !(o.LatencyTolerance > 0 && o.LatencyTolerance < 10) {
		bad("latency tolerance", "%v is not in (0, 10)", o.LatencyTolerance)
	}
	if !(o.ThroughputTolerance > 0 && o.ThroughputTolerance < 10) {
		bad("throughput tolerance", "%v is not in (0, 10)", o.ThroughputTolerance)
	}
	if !(o.SuccessTolerance > 0 && o.SuccessTolerance < 1) {
		bad("success tolerance", "%v is not in (0, 1)", o.SuccessTolerance)
	}
	if !(o.FDR > 0 && o.FDR < 1) {
		bad("fdr", "%v is not in (0, 1)", o.FDR)
	}
	if o.MinDays < 2 {
		bad("min days", "%d is under 2", o.MinDays)
	}
	if o.MinRequests < 1 {
		bad("min requests", "%v is under 1", o.MinRequests)
	}
	if o.LoadRatio <= 1 {
		bad("load ratio", "%v is not above 1", o.LoadRatio)
	}
	if o.Batch < 0 {
		bad("batch", "%d is negative", o.Batch)
	}
	if o.Parallel < 1 {
		bad("parallel", "%d is under 1", o.Parallel)
	}
	if o.MinSegment < 2 {
		bad("min segment", "%d is under 2", o.MinSegment)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	return nil
}
