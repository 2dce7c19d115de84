package backend

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/perfbase/perfbase/internal/store"
)

// Embedded is the Querier of an open embedded store, with typed errors.
// The caller owns db and closes it.
func Embedded(db *store.DB) Querier {
	return &embedded{db: db, q: db.Querier(), name: "embedded store " + db.Dir()}
}

type embedded struct {
	db   *store.DB
	q    *store.Querier
	name string
}

func (e *embedded) Query(ctx context.Context, expr string, ts time.Time) (model.Value, error) {
	v, err := e.q.Query(ctx, expr, ts)
	return v, e.wrap(ctx, expr, err)
}

func (e *embedded) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error) {
	if step <= 0 || end.Before(start) {
		_, err := e.q.QueryRange(ctx, expr, start, end, step)
		return nil, &Error{Type: ErrBadQuery, Backend: e.name, Expr: expr, Err: err}
	}
	v, err := e.q.QueryRange(ctx, expr, start, end, step)
	return v, e.wrap(ctx, expr, err)
}

func (e *embedded) wrap(ctx context.Context, expr string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Type: classifyEngine(ctx, err), Backend: e.name, Expr: expr, Err: err}
}

func classifyEngine(ctx context.Context, err error) ErrorType {
	var pes parser.ParseErrors
	var pe *parser.ParseErr
	var timeout promql.ErrQueryTimeout
	var canceled promql.ErrQueryCanceled
	var tooMany promql.ErrTooManySamples
	switch {
	case errors.As(err, &pes), errors.As(err, &pe), errors.As(err, &tooMany):
		return ErrBadQuery
	case errors.As(err, &timeout):
		return ErrTimeout
	case errors.As(err, &canceled):
		if t, ok := ctxType(ctx.Err()); ok {
			return t
		}
		return ErrCanceled
	}
	if t, ok := ctxType(err); ok {
		return t
	}
	return ErrServer
}

// embeddedBackend is an embedded store opened by Open, closed with it.
type embeddedBackend struct {
	Querier
	db *store.DB
}

func (b *embeddedBackend) Close() error { return b.db.Close() }

// DB is the embedded store, for writing derived run records back.
func (b *embeddedBackend) DB() *store.DB { return b.db }
func (b *embeddedBackend) Name() string  { return "embedded store " + b.db.Dir() }
