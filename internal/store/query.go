package store

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// queryEngine is the PromQL engine of one DB, set up like Prometheus'
// own (@ modifier and negative offsets on), so the same expressions run
// embedded and remote.
type queryEngine struct {
	engine   *promql.Engine
	lookback time.Duration
}

func newQueryEngine(o Options) *queryEngine {
	return &queryEngine{
		engine: promql.NewEngine(promql.EngineOpts{
			Logger:               o.Logger,
			Reg:                  o.Registerer,
			MaxSamples:           o.MaxSamples,
			Timeout:              o.QueryTimeout,
			LookbackDelta:        o.LookbackDelta,
			EnableAtModifier:     true,
			EnableNegativeOffset: true,
		}),
		lookback: o.LookbackDelta,
	}
}

// Querier runs PromQL over the store. It satisfies backend.Querier; its
// errors are the PromQL engine's own (parser.ParseErrors for bad
// expressions, promql.ErrQueryTimeout, promql.ErrQueryCanceled), which
// backend.Embedded classifies into typed errors.
type Querier struct{ db *DB }

// Querier returns the store's PromQL querier.
func (db *DB) Querier() *Querier { return &Querier{db: db} }

// Query evaluates expr at ts.
func (q *Querier) Query(ctx context.Context, expr string, ts time.Time) (model.Value, error) {
	return q.db.run(ctx, expr, ts, ts, 0)
}

// QueryRange evaluates expr from start to end every step. Unlike the
// Prometheus HTTP API it has no 11,000-point limit.
func (q *Querier) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error) {
	if step <= 0 {
		return nil, fmt.Errorf("store: range query step must be positive, got %s", step)
	}
	if end.Before(start) {
		return nil, fmt.Errorf("store: range query end %s is before start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	return q.db.run(ctx, expr, start, end, step)
}

func (db *DB) run(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error) {
	// Held for the whole evaluation: a bulk commit waits for running queries.
	db.mu.RLock()
	defer db.mu.RUnlock()
	qa, err := db.queryable()
	if err != nil {
		return nil, err
	}
	if db.readOnly != nil {
		db.roMu.Lock()
		defer db.roMu.Unlock()
	}
	opts := promql.NewPrometheusQueryOpts(false, db.engine.lookback, nil)
	var qry promql.Query
	if step == 0 {
		qry, err = db.engine.engine.NewInstantQuery(ctx, qa, opts, expr, start)
	} else {
		qry, err = db.engine.engine.NewRangeQuery(ctx, qa, opts, expr, start, end, step)
	}
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	return toModel(res.Value)
}

// toModel converts the engine's result into the prometheus/common/model
// values the HTTP API client returns, so callers see one type either way.
func toModel(v any) (model.Value, error) {
	switch v := v.(type) {
	case promql.Vector:
		out := make(model.Vector, 0, len(v))
		for _, s := range v {
			ms := &model.Sample{Metric: toMetric(s.Metric), Timestamp: model.Time(s.T)}
			if s.H != nil {
				ms.Histogram = toHistogram(s.H)
			} else {
				ms.Value = model.SampleValue(s.F)
			}
			out = append(out, ms)
		}
		return out, nil
	case promql.Matrix:
		out := make(model.Matrix, 0, len(v))
		for _, s := range v {
			ss := &model.SampleStream{Metric: toMetric(s.Metric)}
			if len(s.Floats) > 0 {
				ss.Values = make([]model.SamplePair, len(s.Floats))
				for i, p := range s.Floats {
					ss.Values[i] = model.SamplePair{Timestamp: model.Time(p.T), Value: model.SampleValue(p.F)}
				}
			}
			for _, p := range s.Histograms {
				ss.Histograms = append(ss.Histograms, model.SampleHistogramPair{Timestamp: model.Time(p.T), Histogram: toHistogram(p.H)})
			}
			out = append(out, ss)
		}
		return out, nil
	case promql.Scalar:
		return &model.Scalar{Timestamp: model.Time(v.T), Value: model.SampleValue(v.V)}, nil
	case promql.String:
		return &model.String{Timestamp: model.Time(v.T), Value: v.V}, nil
	default:
		return nil, fmt.Errorf("store: unexpected PromQL result type %T", v)
	}
}

func toMetric(ls labels.Labels) model.Metric {
	m := make(model.Metric, ls.Len())
	ls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	return m
}
