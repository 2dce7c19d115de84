package runrecord

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Query selects the records a reader wants. Its expressions are range
// selectors: evaluated as instant queries at a time `at`, each returns the
// raw samples of (at-Range, at] with their own timestamps, which is what
// Decode reads. Writers and readers share this package, so the queries
// cannot drift from the layout Encode writes.
//
// Range should reach back past the steady start of the oldest run wanted:
// a run whose first windows fall before it is decoded without windows.
type Query struct {
	// Range is how far back from the evaluation time records are read.
	Range time.Duration
	// Matchers restrict every record series. Only scenario and shard may
	// be matched: they are the labels every record series has (run_id is
	// on the info series alone; filter decoded records by Meta instead).
	Matchers []*labels.Matcher
	// Interface, when set, restricts the per-interface series, e.g. to a
	// batch of interfaces to bound memory; must match LabelInterface.
	Interface *labels.Matcher
}

// perInterface tells the record series that have an interface label.
func perInterface(metric string) bool {
	switch metric {
	case c.MetricRecordInfo, c.MetricRecordStart, c.MetricRecordSteadyStart:
		return false
	}
	return true
}

func (q Query) validate() error {
	var errs []error
	if q.Range < time.Millisecond {
		errs = append(errs, fmt.Errorf("runrecord: query range %s is shorter than a millisecond", q.Range))
	}
	for _, m := range q.Matchers {
		if m == nil {
			errs = append(errs, errors.New("runrecord: nil matcher"))
		} else if m.Name != c.LabelScenario && m.Name != c.LabelShard {
			errs = append(errs, fmt.Errorf("runrecord: cannot match %s: record series are selected by %s and %s only", m, c.LabelScenario, c.LabelShard))
		}
	}
	if q.Interface != nil && q.Interface.Name != c.LabelInterface {
		errs = append(errs, fmt.Errorf("runrecord: interface matcher %s must match %s", q.Interface, c.LabelInterface))
	}
	return errors.Join(errs...)
}

// Expr returns the range selector of one record series, e.g.
// perfbase_run_record_requests{scenario="checkout"}[90d].
func (q Query) Expr(metric string) (string, error) {
	if err := q.validate(); err != nil {
		return "", err
	}
	if !slices.Contains(c.RecordMetrics, metric) {
		return "", fmt.Errorf("runrecord: %q is not a record series", metric)
	}
	ms := make([]string, 0, len(q.Matchers)+1)
	for _, m := range q.Matchers {
		ms = append(ms, m.String())
	}
	if q.Interface != nil && perInterface(metric) {
		ms = append(ms, q.Interface.String())
	}
	sel := metric
	if len(ms) > 0 {
		sel += "{" + strings.Join(ms, ",") + "}"
	}
	return sel + "[" + model.Duration(q.Range).String() + "]", nil
}

// Exprs returns the range selector of every record series, in the order
// of c.RecordMetrics (the info series first). Pass the matrices they
// return, together, to Decode.
func (q Query) Exprs() ([]string, error) {
	out := make([]string, 0, len(c.RecordMetrics))
	for _, metric := range c.RecordMetrics {
		e, err := q.Expr(metric)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
