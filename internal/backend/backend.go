// Package backend is the one small query interface the analyzer reads
// through, with two implementations: the embedded store and a remote
// Prometheus-compatible server. The analyzer must not know which it reads.
package backend

import (
	"context"
	"time"

	"github.com/prometheus/common/model"
)

// Querier runs PromQL. Both implementations return model.Vector,
// model.Matrix or *model.Scalar, with the same semantics as the
// Prometheus HTTP API.
type Querier interface {
	// Query evaluates expr at ts.
	Query(ctx context.Context, expr string, ts time.Time) (model.Value, error)
	// QueryRange evaluates expr from start to end every step.
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error)
}
