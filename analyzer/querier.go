package analyzer

import (
	"context"
	"time"

	"github.com/prometheus/common/model"
)

// Querier runs PromQL for the analyzer: the embedded store, or any
// Prometheus-compatible server through its HTTP API. Results are
// model.Vector, model.Matrix or *model.Scalar with the semantics of the
// Prometheus HTTP API. The analyzer declares what it needs so that it
// links neither the store nor an HTTP client; internal/backend's
// implementations satisfy it.
type Querier interface {
	// Query evaluates expr at ts.
	Query(ctx context.Context, expr string, ts time.Time) (model.Value, error)
	// QueryRange evaluates expr from start to end every step.
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error)
}
