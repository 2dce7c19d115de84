package backend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// MaxPointsPerSeries is the most points per series a range query asks a
// remote server for: Prometheus refuses more than 11,000 (VictoriaMetrics
// 30,000), so longer ranges are split (see QueryRangeSplit).
const MaxPointsPerSeries = 11000

// RemoteOptions configure a remote Prometheus-compatible server.
type RemoteOptions struct {
	// URL is the server's base URL, under which /api/v1/query is served:
	// http://prometheus:9090, http://victoria:8428, a Thanos querier, or
	// Mimir's https://mimir/prometheus.
	URL string
	// HTTP holds auth (basic, bearer, OAuth2), TLS and proxy settings.
	// Secrets in it are config.Secret and print as <secret>.
	HTTP config.HTTPClientConfig
	// Timeout bounds each query, sent to the server too. Default 2m.
	Timeout time.Duration
}

// Remote queries a Prometheus-compatible HTTP API.
type Remote struct {
	api     v1.API
	name    string
	timeout time.Duration
}

// NewRemote returns a Querier of the server at o.URL.
func NewRemote(o RemoteOptions) (*Remote, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("backend: URL %q must be http(s)://host[:port][/path]", redactURL(o.URL))
	}
	if err := o.HTTP.Validate(); err != nil {
		return nil, fmt.Errorf("backend: HTTP client config: %w", err)
	}
	hc, err := config.NewClientFromConfig(o.HTTP, "perfbase")
	if err != nil {
		return nil, fmt.Errorf("backend: HTTP client config: %w", err)
	}
	c, err := api.NewClient(api.Config{Address: o.URL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	return &Remote{api: v1.NewAPI(c), name: u.Redacted(), timeout: o.Timeout}, nil
}

// Name is the server URL without credentials.
func (r *Remote) Name() string { return r.name }

// Close releases nothing; it makes Remote a Backend.
func (r *Remote) Close() error { return nil }

// Query evaluates expr at ts on the server.
func (r *Remote) Query(ctx context.Context, expr string, ts time.Time) (model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, _, _, err := r.api.Query(ctx, expr, ts, v1.WithTimeout(r.timeout))
	if err != nil {
		return nil, r.wrap(ctx, expr, err)
	}
	return v, nil
}

// QueryRange evaluates expr from start to end every step, split into
// requests of at most MaxPointsPerSeries points per series.
func (r *Remote) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error) {
	return QueryRangeSplit(ctx, rangeFunc(r.queryRangeOnce), expr, start, end, step, MaxPointsPerSeries)
}

func (r *Remote) queryRangeOnce(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, _, _, err := r.api.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: step}, v1.WithTimeout(r.timeout))
	if err != nil {
		return nil, r.wrap(ctx, expr, err)
	}
	return v, nil
}

func (r *Remote) wrap(ctx context.Context, expr string, err error) error {
	return &Error{Type: classifyRemote(ctx, err), Backend: r.name, Expr: expr, Err: err}
}

func classifyRemote(ctx context.Context, err error) ErrorType {
	var ae *v1.Error
	if errors.As(err, &ae) {
		switch ae.Type {
		case v1.ErrBadData:
			return ErrBadQuery
		case v1.ErrTimeout:
			return ErrTimeout
		case v1.ErrCanceled:
			return ErrCanceled
		case "422", "400":
			// VictoriaMetrics: unparsable query, or too many points.
			return ErrBadQuery
		}
		if strings.Contains(ae.Msg, " 401") || strings.Contains(ae.Msg, " 403") {
			return ErrUnauthorized
		}
		return ErrServer
	}
	if t, ok := ctxType(err); ok {
		return t
	}
	if t, ok := ctxType(ctx.Err()); ok {
		return t
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrTimeout
	}
	var oe *net.OpError
	var de *net.DNSError
	var ue *url.Error
	if errors.As(err, &oe) || errors.As(err, &de) || errors.As(err, &ue) {
		return ErrUnreachable
	}
	return ErrServer
}

// redactURL hides a password in a URL that failed to parse or validate.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "xxxxx" + s[i:]
	}
	return s
}
