package backend

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/common/model"
)

// rangeFunc adapts a function to a Querier for QueryRangeSplit.
type rangeFunc func(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error)

func (f rangeFunc) Query(context.Context, string, time.Time) (model.Value, error) {
	return nil, fmt.Errorf("backend: rangeFunc has no instant queries")
}

func (f rangeFunc) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error) {
	return f(ctx, expr, start, end, step)
}

// QueryRangeSplit runs a range query as consecutive queries of at most
// maxPoints points per series each (MaxPointsPerSeries if maxPoints <= 0),
// on the same step grid as the whole range, and joins them into one
// matrix sorted by series labels. A range that fits is one query.
// Every sub-range starts on the grid start + k*step, so the points are the
// ones the single query would have returned.
func QueryRangeSplit(ctx context.Context, q Querier, expr string, start, end time.Time, step time.Duration, maxPoints int) (model.Matrix, error) {
	if step <= 0 {
		return nil, &Error{Type: ErrBadQuery, Backend: "range split", Expr: expr, Err: fmt.Errorf("step must be positive, got %s", step)}
	}
	if end.Before(start) {
		return nil, &Error{Type: ErrBadQuery, Backend: "range split", Expr: expr, Err: fmt.Errorf("end %s is before start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))}
	}
	if maxPoints <= 0 {
		maxPoints = MaxPointsPerSeries
	}
	chunk := time.Duration(maxPoints-1) * step // a sub-range [s, s+chunk] holds maxPoints points
	var (
		order  []model.Fingerprint
		series = map[model.Fingerprint]*model.SampleStream{}
	)
	for s := start; !s.After(end); s = s.Add(chunk + step) {
		e := s.Add(chunk)
		if e.After(end) {
			e = end
		}
		v, err := q.QueryRange(ctx, expr, s, e, step)
		if err != nil {
			return nil, err
		}
		m, ok := v.(model.Matrix)
		if !ok {
			return nil, &Error{Type: ErrServer, Backend: "range split", Expr: expr, Err: fmt.Errorf("range query returned %s, want matrix", v.Type())}
		}
		for _, ss := range m {
			fp := ss.Metric.Fingerprint()
			if have, ok := series[fp]; ok {
				have.Values = append(have.Values, ss.Values...)
				have.Histograms = append(have.Histograms, ss.Histograms...)
				continue
			}
			series[fp] = ss
			order = append(order, fp)
		}
	}
	out := make(model.Matrix, 0, len(order))
	for _, fp := range order {
		out = append(out, series[fp])
	}
	sort.Sort(out)
	return out, nil
}
