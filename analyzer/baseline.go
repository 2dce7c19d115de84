package analyzer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
)

// BaselineVersion is the schema version of saved baseline files. Readers
// refuse other versions rather than guess.
const BaselineVersion = 1

// Baseline source kinds.
const (
	SourcePreviousMonths = "previous_months" // the N months before the report month
	SourceMonth          = "month"           // one pinned month
	SourceRun            = "run"             // one pinned run_id
	SourceFile           = "file"            // a saved baseline file
)

// Baseline is the reference a period is compared with: per interface, the
// period metrics (conventions.Baseline* keys) and, so that the statistical
// tests still work after the backend's retention dropped the data, the
// outcome counts, daily values and bucket layout behind them.
//
// Saved as JSON:
//
//	{"version":1,"created":"2025-04-01T00:00:00Z","timezone":"UTC",
//	 "source":{"kind":"previous_months","months":["2025-01","2025-02","2025-03"],...},
//	 "interfaces":[{"name":"query_balance","requests":123456,
//	   "metrics":{"latency_p99_seconds":0.21,...},"counts":{...},"daily":{...},"buckets":[...]}]}
type Baseline struct {
	Version    int                 `json:"version"`
	Created    time.Time           `json:"created"`
	Timezone   string              `json:"timezone"`
	Source     Source              `json:"source"`
	Interfaces []BaselineInterface `json:"interfaces"`
	// Runs are the runs of a baseline of runs (`perfbase baseline save
	// --run`), for comparisons of runs.
	Runs []SavedRun `json:"runs,omitempty"`
}

// Source says where a baseline's figures come from.
type Source struct {
	// Kind is one of the Source* constants.
	Kind string `json:"kind"`
	// Months lists the calendar months (YYYY-MM) the figures cover.
	Months []string `json:"months,omitempty"`
	// RunID is the run the figures were restricted to, if any.
	RunID string `json:"run_id,omitempty"`
	// Runs are the baseline runs of kind "runs".
	Runs []string `json:"runs,omitempty"`
	// Start and End bound the period, End exclusive.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// File is the baseline file the figures were read from (kind "file").
	File string `json:"file,omitempty"`
}

// String describes the source for reports, e.g. "2025-01..2025-03".
func (s Source) String() string {
	var d string
	switch {
	case len(s.Months) == 1:
		d = s.Months[0]
	case len(s.Months) > 1:
		d = s.Months[0] + ".." + s.Months[len(s.Months)-1]
	default:
		d = s.Start.Format(time.DateOnly) + ".." + s.End.Format(time.DateOnly)
	}
	if s.RunID != "" {
		d += " run " + s.RunID
	}
	if len(s.Runs) > 0 {
		d = "runs " + describeRuns(s.Runs)
	}
	if s.File != "" {
		d += " from " + s.File
	}
	return d
}

// BaselineInterface is one interface's reference figures.
type BaselineInterface struct {
	Name string `json:"name"`
	// Requests is the number of completed steady-phase requests.
	Requests float64 `json:"requests"`
	// Metrics maps conventions.Baseline* keys to values; a metric that
	// could not be computed (no requests of that kind) is absent.
	Metrics map[string]float64 `json:"metrics"`
	// PeakRPS is the highest throughput over one Options.Resolution step.
	PeakRPS float64 `json:"peak_throughput_rps,omitempty"`
	// Counts are the outcome counts behind the success ratios.
	Counts *Counts `json:"counts,omitempty"`
	// Daily holds, per metric key, the values of the days that had data,
	// in date order: the samples of the rank tests.
	Daily map[string][]float64 `json:"daily,omitempty"`
	// Buckets are the finite latency bucket bounds seen in the period.
	Buckets []float64 `json:"buckets,omitempty"`
}

// Counts are steady-phase request counts for a period.
type Counts struct {
	Success         float64 `json:"success"`
	BusinessFailure float64 `json:"business_failure"`
	SystemFailure   float64 `json:"system_failure"`
	Scheduled       float64 `json:"scheduled"`
	Dropped         float64 `json:"dropped"`
}

// Completed is the number of requests that got an outcome.
func (c Counts) Completed() float64 { return c.Success + c.BusinessFailure + c.SystemFailure }

// SystemOK is the number of requests the system answered as expected.
func (c Counts) SystemOK() float64 { return c.Success + c.BusinessFailure }

// Interface returns the named interface's figures, or nil.
func (b *Baseline) Interface(name string) *BaselineInterface {
	for i := range b.Interfaces {
		if b.Interfaces[i].Name == name {
			return &b.Interfaces[i]
		}
	}
	return nil
}

// Errors returned by LoadBaseline.
var (
	// ErrBaselineVersion is returned for a file of another schema version.
	ErrBaselineVersion = errors.New("unsupported baseline version")
	// ErrBaselineInvalid is returned for a file whose content is inconsistent.
	ErrBaselineInvalid = errors.New("invalid baseline")
)

// Validate reports every problem of b at once.
func (b *Baseline) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBaselineInvalid}, a...)...))
	}
	if b.Version != BaselineVersion {
		return fmt.Errorf("%w %d (this perfbase reads version %d)", ErrBaselineVersion, b.Version, BaselineVersion)
	}
	if _, err := time.LoadLocation(b.Timezone); err != nil || b.Timezone == "" {
		bad("timezone: unknown time zone %q", b.Timezone)
	}
	switch b.Source.Kind {
	case SourcePreviousMonths, SourceMonth, SourceRun, SourceFile, SourceRuns:
	default:
		bad("source.kind: %q is not one of %s, %s, %s, %s, %s", b.Source.Kind, SourcePreviousMonths, SourceMonth, SourceRun, SourceFile, SourceRuns)
	}
	seen := map[string]bool{}
	for i, in := range b.Interfaces {
		at := fmt.Sprintf("interfaces[%d]", i)
		if !conventions.ValidInterfaceName(in.Name) {
			bad("%s.name: %q is not a valid interface name (%s)", at, in.Name, conventions.InterfaceNamePattern)
		}
		if seen[in.Name] {
			bad("%s.name: duplicate interface %q", at, in.Name)
		}
		seen[in.Name] = true
		if in.Requests < 0 || math.IsNaN(in.Requests) {
			bad("%s.requests: %v is negative", at, in.Requests)
		}
		for k, v := range in.Metrics {
			if !slices.Contains(conventions.BaselineMetrics, k) {
				bad("%s.metrics: unknown metric %q", at, k)
			}
			if v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				bad("%s.metrics.%s: %v is not a finite non-negative number", at, k, v)
			}
		}
		for k := range in.Daily {
			if !slices.Contains(conventions.BaselineMetrics, k) {
				bad("%s.daily: unknown metric %q", at, k)
			}
		}
		if !slices.IsSorted(in.Buckets) {
			bad("%s.buckets: bounds are not ascending", at)
		}
	}
	for i, r := range b.Runs {
		at := fmt.Sprintf("runs[%d]", i)
		if r.RunID == "" || r.Scenario == "" {
			bad("%s: run_id and scenario are required", at)
		}
		if r.End.Before(r.Start) {
			bad("%s: end %s is before start %s", at, r.End.Format(time.RFC3339), r.Start.Format(time.RFC3339))
		}
		for j, in := range r.Interfaces {
			iat := fmt.Sprintf("%s.interfaces[%d]", at, j)
			if !conventions.ValidInterfaceName(in.Name) {
				bad("%s.name: %q is not a valid interface name (%s)", iat, in.Name, conventions.InterfaceNamePattern)
			}
			nb := len(durationBounds)
			if in.Bounds != nil {
				nb = len(in.Bounds)
			}
			if len(in.Buckets) != nb+1 {
				bad("%s.buckets: %d counts for %d bounds and +Inf", iat, len(in.Buckets), nb)
			}
			for _, v := range append([]float64{in.ActiveSeconds, in.Counts.Success, in.Counts.BusinessFailure, in.Counts.SystemFailure, in.Counts.Scheduled, in.Counts.Dropped}, in.Buckets...) {
				if v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
					bad("%s: %v is not a finite non-negative count", iat, v)
					break
				}
			}
			for k, w := range in.Windows {
				if w.End.Before(w.Start) || w.Counts.Completed() < 0 || math.IsNaN(w.Counts.Completed()) || math.IsInf(w.Counts.Completed(), 0) {
					bad("%s.windows[%d]: out of order or not a finite count", iat, k)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// LoadBaseline reads and validates a saved baseline file.
func LoadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("could not read baseline: %w", err)
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + countNewlines(data[:se.Offset])
			return nil, fmt.Errorf("%s:%d: %w: %w", path, line, ErrBaselineInvalid, err)
		}
		return nil, fmt.Errorf("%s: %w: %w", path, ErrBaselineInvalid, err)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &b, nil
}

func countNewlines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// Save writes b to path as indented JSON, atomically: readers never see a
// half-written file.
func (b *Baseline) Save(path string) error {
	if b.Version == 0 {
		b.Version = BaselineVersion
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("could not save baseline: %w", err)
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("could not encode baseline: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".baseline-*.json")
	if err != nil {
		return fmt.Errorf("could not save baseline: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // fails, as it should, after a successful rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("could not write baseline %s: %w", path, errors.Join(err, tmp.Close()))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("could not write baseline %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("could not save baseline %s: %w", path, err)
	}
	return nil
}
