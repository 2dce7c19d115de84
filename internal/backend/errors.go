package backend

import (
	"context"
	"errors"
	"fmt"
)

// ErrorType says what kind of failure a query met, so callers can branch:
// a bad expression is the user's to fix (exit code 2), an unreachable or
// slow server is not.
type ErrorType string

// Error types.
const (
	// ErrBadQuery: the expression does not parse or is invalid, or asks for
	// more than the backend allows (e.g. too many points per series).
	ErrBadQuery ErrorType = "bad_query"
	// ErrUnreachable: no answer from the server (connection refused, DNS,
	// TLS handshake), or the embedded store could not be opened.
	ErrUnreachable ErrorType = "unreachable"
	// ErrUnauthorized: the server refused our credentials (HTTP 401/403).
	ErrUnauthorized ErrorType = "unauthorized"
	// ErrTimeout: the query ran out of time, on our side or the server's.
	ErrTimeout ErrorType = "timeout"
	// ErrCanceled: the caller cancelled the query.
	ErrCanceled ErrorType = "canceled"
	// ErrServer: the server failed otherwise (execution error, 5xx,
	// unparsable response).
	ErrServer ErrorType = "server"
)

// Error is a failed query. Match it with errors.As or IsType.
type Error struct {
	Type ErrorType
	// Backend names where the query ran: "embedded DIR" or the server URL
	// without credentials.
	Backend string
	// Expr is the PromQL expression.
	Expr string
	Err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("query %q on %s: %s: %v", e.Expr, e.Backend, e.Type, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// IsType reports whether err is an *Error of type t.
func IsType(err error, t ErrorType) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == t
}

// ctxType classifies context errors, which both backends share.
func ctxType(err error) (ErrorType, bool) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ErrTimeout, true
	case errors.Is(err, context.Canceled):
		return ErrCanceled, true
	}
	return "", false
}
