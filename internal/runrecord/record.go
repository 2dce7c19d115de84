package runrecord

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Record is what perfbase keeps of one run-shard: its identity and, per
// interface, the steady-phase totals and within-run windows.
type Record struct {
	Meta Meta
	// Interfaces are sorted by name.
	Interfaces []InterfaceRecord
}

// Meta identifies a run-shard and says how it ended. Times are kept to the
// millisecond, in UTC.
type Meta struct {
	RunID    string
	Scenario string
	// Shard is "i/n" (c.RecordShardUnsharded for a run that was not
	// split) and Shards is n.
	Shard  string
	Shards int
	// Mode is the scenario's load mode; "" when unknown (an import).
	Mode string
	// Status is a c.RecordStatus* value.
	Status string
	// Thresholds is a c.RecordThresholds* value.
	Thresholds string
	// Start is when the run started, warm-up included; SteadyStart when
	// its steady phase started, where the first window starts; End when it
	// ended: every total of the record is written at End.
	Start, SteadyStart, End time.Time
	// FailuresFile is where the run wrote its failure samples, "" if none.
	FailuresFile string
	// GeneratorSaturated: the load generator, not the target, limited
	// the run, so its latencies include the generator's queueing.
	GeneratorSaturated bool
}

// Counts are completed requests by outcome.
type Counts struct {
	Success         float64
	BusinessFailure float64
	SystemFailure   float64
}

// Completed is the number of completed requests, whatever their outcome.
func (n Counts) Completed() float64 { return n.Success + n.BusinessFailure + n.SystemFailure }

// Get returns the count of a c.Outcome* value; false for another value.
func (n Counts) Get(outcome string) (float64, bool) {
	switch outcome {
	case c.OutcomeSuccess:
		return n.Success, true
	case c.OutcomeBusinessFailure:
		return n.BusinessFailure, true
	case c.OutcomeSystemFailure:
		return n.SystemFailure, true
	}
	return 0, false
}

// ptr returns the field of a c.Outcome* value, nil for another value.
func (n *Counts) ptr(outcome string) *float64 {
	switch outcome {
	case c.OutcomeSuccess:
		return &n.Success
	case c.OutcomeBusinessFailure:
		return &n.BusinessFailure
	case c.OutcomeSystemFailure:
		return &n.SystemFailure
	}
	return nil
}

func (n Counts) sub(o Counts) Counts {
	return Counts{n.Success - o.Success, n.BusinessFailure - o.BusinessFailure, n.SystemFailure - o.SystemFailure}
}

func (n Counts) add(o Counts) Counts {
	return Counts{n.Success + o.Success, n.BusinessFailure + o.BusinessFailure, n.SystemFailure + o.SystemFailure}
}

// Bucket is one bucket of a cumulative latency histogram.
type Bucket struct {
	// UpperBound is the bucket's bound in seconds, +Inf for the last one.
	UpperBound float64
	// Count is the number of requests with a latency at most UpperBound.
	Count float64
}

// InterfaceRecord holds one interface's figures for the steady phase of a
// run-shard.
type InterfaceRecord struct {
	Name     string
	Requests Counts
	// Scheduled counts requests taken off the schedule (sent or dropped),
	// Dropped those never sent.
	Scheduled, Dropped float64
	// ActiveSeconds is how long the interface had load in steady stages.
	ActiveSeconds float64
	// Buckets is the latency histogram of every completed request, all
	// outcomes together: cumulative, by ascending bound, ending with +Inf.
	Buckets []Bucket
	// Windows split the steady phase in time order; their counts add up
	// to Requests. Empty when the record was written without windows.
	Windows []Window
}

// Window is one slice of the steady phase.
type Window struct {
	// Start is the previous window's End, Meta.SteadyStart for the first.
	Start, End time.Time
	Requests   Counts
	// Latency holds the quantiles of WindowQuantiles in seconds, in that
	// order; nil when no request completed in the window.
	Latency []float64
}

// WindowQuantiles are the latency quantiles kept per window, the values of
// c.RecordWindowQuantiles.
var WindowQuantiles = func() []float64 {
	qs := make([]float64, len(c.RecordWindowQuantiles))
	for i, s := range c.RecordWindowQuantiles {
		q, err := strconv.ParseFloat(s, 64)
		if err != nil || q <= 0 || q >= 1 {
			panic(fmt.Sprintf("runrecord: conventions.RecordWindowQuantiles[%d] = %q is not a quantile", i, s))
		}
		qs[i] = q
	}
	return qs
}()

// Validate reports everything that keeps r from being encoded or trusted:
// missing identity, bad label values, negative or non-finite figures,
// histograms that are not cumulative, windows that do not follow one
// another or do not add up to the totals.
func (r Record) Validate() error {
	errs := r.Meta.validate()
	seen := map[string]bool{}
	for i := range r.Interfaces {
		ir := &r.Interfaces[i]
		if seen[ir.Name] {
			errs = append(errs, fmt.Errorf("interface %q appears twice", ir.Name))
			continue
		}
		seen[ir.Name] = true
		if err := ir.validate(r.Meta); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("runrecord: invalid record of run %q (scenario %q, shard %q): %w", r.Meta.RunID, r.Meta.Scenario, r.Meta.Shard, err)
	}
	return nil
}

func (m Meta) validate() []error {
	var errs []error
	label := func(field, v string, required bool) {
		switch {
		case v == "" && required:
			errs = append(errs, fmt.Errorf("%s must not be empty", field))
		case !utf8.ValidString(v):
			errs = append(errs, fmt.Errorf("%s %q is not valid UTF-8", field, v))
		}
	}
	label("run id", m.RunID, true)
	label("scenario", m.Scenario, true)
	label("mode", m.Mode, false)
	if _, n, err := ParseShard(m.Shard); err != nil {
		errs = append(errs, err)
	} else if n != m.Shards {
		errs = append(errs, fmt.Errorf("shard %q is not one of %d shards", m.Shard, m.Shards))
	}
	if !slices.Contains(c.RecordStatuses, m.Status) {
		errs = append(errs, fmt.Errorf("status %q is not one of %s", m.Status, strings.Join(c.RecordStatuses, ", ")))
	}
	if !slices.Contains(c.RecordThresholdsValues, m.Thresholds) {
		errs = append(errs, fmt.Errorf("thresholds %q is not one of %s", m.Thresholds, strings.Join(c.RecordThresholdsValues, ", ")))
	}
	switch {
	case m.Start.IsZero() || m.SteadyStart.IsZero() || m.End.IsZero():
		errs = append(errs, errors.New("start, steady start and end must be set"))
	case m.SteadyStart.Before(m.Start) || m.End.Before(m.SteadyStart):
		errs = append(errs, fmt.Errorf("start %s, steady start %s and end %s are out of order",
			fmtTime(m.Start), fmtTime(m.SteadyStart), fmtTime(m.End)))
	}
	return errs
}

// ParseShard reads "i/n" with 1 <= i <= n.
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(a)
		if err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || i < 1 || i > n {
		return 0, 0, fmt.Errorf("shard %q is not i/n with 1 <= i <= n", s)
	}
	return i, n, nil
}

func (ir *InterfaceRecord) validate(m Meta) error {
	var errs []error
	if ir.Name == "" || !utf8.ValidString(ir.Name) {
		errs = append(errs, errors.New("name must be non-empty UTF-8"))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"success", ir.Requests.Success}, {"business_failure", ir.Requests.BusinessFailure},
		{"system_failure", ir.Requests.SystemFailure}, {"scheduled", ir.Scheduled},
		{"dropped", ir.Dropped}, {"active seconds", ir.ActiveSeconds},
	} {
		if !countOK(f.v) {
			errs = append(errs, fmt.Errorf("%s is %g, want a finite count >= 0", f.name, f.v))
		}
	}
	if err := checkBuckets(ir.Buckets); err != nil {
		errs = append(errs, err)
	}
	if err := ir.checkWindows(m); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("interface %q: %w", ir.Name, err)
	}
	return nil
}

func countOK(v float64) bool { return v >= 0 && !math.IsInf(v, 0) } // false for NaN too

// checkBuckets accepts a cumulative histogram by strictly ascending bound
// ending with +Inf, or none.
func checkBuckets(bs []Bucket) error {
	if len(bs) == 0 {
		return nil
	}
	if !math.IsInf(bs[len(bs)-1].UpperBound, 1) {
		return errors.New("buckets do not end with +Inf")
	}
	for i, b := range bs {
		if math.IsNaN(b.UpperBound) || !countOK(b.Count) {
			return fmt.Errorf("bucket le=%g has count %g", b.UpperBound, b.Count)
		}
		if i > 0 && b.UpperBound <= bs[i-1].UpperBound {
			return fmt.Errorf("bucket bounds %g and %g are not ascending", bs[i-1].UpperBound, b.UpperBound)
		}
		if i > 0 && b.Count < bs[i-1].Count {
			return fmt.Errorf("bucket le=%g counts %g, fewer than le=%g (%g): not cumulative", b.UpperBound, b.Count, bs[i-1].UpperBound, bs[i-1].Count)
		}
	}
	return nil
}

// checkWindows accepts windows that follow one another from the steady
// start to at most the end, at distinct milliseconds, and add up to the
// interface's totals.
func (ir *InterfaceRecord) checkWindows(m Meta) error {
	if len(ir.Windows) == 0 {
		return nil
	}
	var sum Counts
	prev := m.SteadyStart
	for i, w := range ir.Windows {
		if !w.Start.Equal(prev) {
			return fmt.Errorf("window %d starts at %s, want %s", i, fmtTime(w.Start), fmtTime(prev))
		}
		if w.End.UnixMilli() <= w.Start.UnixMilli() || w.End.After(m.End) {
			return fmt.Errorf("window %d ends at %s, want after %s and at most %s", i, fmtTime(w.End), fmtTime(w.Start), fmtTime(m.End))
		}
		for _, o := range c.Outcomes {
			if v, _ := w.Requests.Get(o); !countOK(v) {
				return fmt.Errorf("window %d: %s is %g", i, o, v)
			}
		}
		if w.Latency != nil {
			if len(w.Latency) != len(WindowQuantiles) {
				return fmt.Errorf("window %d has %d latency quantiles, want %d", i, len(w.Latency), len(WindowQuantiles))
			}
			for j, v := range w.Latency {
				if !countOK(v) {
					return fmt.Errorf("window %d: latency quantile %g is %g", i, WindowQuantiles[j], v)
				}
			}
		}
		sum = sum.add(w.Requests)
		prev = w.End
	}
	for _, o := range c.Outcomes {
		got, _ := sum.Get(o)
		want, _ := ir.Requests.Get(o)
		if !sameCount(got, want) {
			return fmt.Errorf("windows count %g %s requests, the totals %g", got, o, want)
		}
	}
	return nil
}

// sameCount compares counts that are sums of whole numbers, allowing the
// rounding of backends that do not keep every float bit.
func sameCount(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// msTime is t to the millisecond in UTC: the precision of sample timestamps.
func msTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}
