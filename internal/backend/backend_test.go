package backend_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/internal/backend"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/internal/testservers"
)

// seeded returns a store with two series, one sample a minute for a day.
func seeded(t *testing.T) (*store.DB, time.Time) {
	t.Helper()
	db, err := store.Open(t.TempDir(), store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	ctx := context.Background()
	b, err := db.NewBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 24 * 60 {
		ts := start.Add(time.Duration(i) * time.Minute).UnixMilli()
		for _, s := range []string{"a", "b"} {
			if err := b.Append(ctx, labels.FromStrings("__name__", "m_total", "s", s), ts, float64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return db, start
}

type countingQuerier struct {
	backend.Querier
	mu     sync.Mutex
	calls  int
	maxPts int
}

func (c *countingQuerier) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, error) {
	c.mu.Lock()
	c.calls++
	if n := int(end.Sub(start)/step) + 1; n > c.maxPts {
		c.maxPts = n
	}
	c.mu.Unlock()
	return c.Querier.QueryRange(ctx, expr, start, end, step)
}

func TestQueryRangeSplitMatchesOneQuery(t *testing.T) {
	t.Parallel()
	db, start := seeded(t)
	q := backend.Embedded(db)
	ctx := context.Background()
	end := start.Add(23 * time.Hour).Add(17 * time.Second)
	step := time.Minute
	whole, err := q.QueryRange(ctx, "rate(m_total[5m])", start, end, step)
	if err != nil {
		t.Fatal(err)
	}
	for _, maxPoints := range []int{1, 7, 100, 1380, 1381, 5000} {
		t.Run(strconv.Itoa(maxPoints), func(t *testing.T) {
			cq := &countingQuerier{Querier: q}
			got, err := backend.QueryRangeSplit(ctx, cq, "rate(m_total[5m])", start, end, step, maxPoints)
			if err != nil {
				t.Fatal(err)
			}
			if cq.maxPts > maxPoints {
				t.Errorf("a sub-query asked for %d points, limit %d", cq.maxPts, maxPoints)
			}
			if !reflect.DeepEqual(got, whole.(model.Matrix)) {
				t.Errorf("split result differs from one query (%d calls)", cq.calls)
			}
		})
	}
}

func TestEmbeddedErrorTypes(t *testing.T) {
	t.Parallel()
	db, start := seeded(t)
	q := backend.Embedded(db)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		expr string
		want backend.ErrorType
	}{
		{"syntax", context.Background(), "sum(", backend.ErrBadQuery},
		{"type", context.Background(), "rate(m_total)", backend.ErrBadQuery},
		{"canceled", canceled, "m_total", backend.ErrCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := q.Query(tt.ctx, tt.expr, start)
			if !backend.IsType(err, tt.want) {
				t.Fatalf("error = %v, want type %s", err, tt.want)
			}
		})
	}
}

func TestOpenEmbedded(t *testing.T) {
	t.Parallel()
	_, err := backend.Open(backend.Options{DataDir: filepath.Join(t.TempDir(), "nope")})
	if err == nil || !strings.Contains(err.Error(), "no perfbase data") {
		t.Fatalf("Open of a missing dir: %v", err)
	}
	db, start := seeded(t) // holds the lock
	b, err := backend.Open(backend.Options{DataDir: db.Dir()})
	if err != nil {
		t.Fatalf("Open of a locked store must fall back to read-only: %v", err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	v, err := b.Query(context.Background(), `sum(m_total)`, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(model.Vector)[0].Value; got != 120 {
		t.Errorf("sum(m_total) = %v, want 120", got)
	}
}

func TestRemoteErrorTypes(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	unauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	t.Cleanup(unauth.Close)
	down := "http://127.0.0.1:" + strconv.Itoa(testservers.FreePort(t))

	tests := []struct {
		name string
		url  string
		want backend.ErrorType
	}{
		{"timeout", slow.URL, backend.ErrTimeout},
		{"unauthorized", unauth.URL, backend.ErrUnauthorized},
		{"unreachable", down, backend.ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := backend.NewRemote(backend.RemoteOptions{URL: tt.url, Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Query(context.Background(), "up", time.Now())
			if !backend.IsType(err, tt.want) {
				t.Fatalf("error = %v, want type %s", err, tt.want)
			}
		})
	}
}

func TestRemoteSendsCredentialsAndRedactsThem(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-token-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"42"]}}`))
	}))
	defer srv.Close()
	cfgFile := filepath.Join(t.TempDir(), "http.yml")
	if err := os.WriteFile(cfgFile, []byte("authorization:\n  credentials: "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := backend.Open(backend.Options{URL: srv.URL, HTTPConfigFile: cfgFile})
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.Query(context.Background(), "42", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := v.(*model.Scalar); !ok || s.Value != 42 {
		t.Fatalf("result = %v", v)
	}
	// A wrong token: the error must not carry either token.
	if err := os.WriteFile(cfgFile, []byte("authorization:\n  credentials: wrong-"+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err = backend.Open(backend.Options{URL: strings.Replace(srv.URL, "http://", "http://user:pw-"+token+"@", 1), HTTPConfigFile: cfgFile})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Query(context.Background(), "42", time.Now())
	if !backend.IsType(err, backend.ErrUnauthorized) {
		t.Fatalf("error = %v, want unauthorized", err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(b.Name(), token) {
		t.Fatalf("secret leaked: %v / %s", err, b.Name())
	}
}

// TestRemoteRealServers runs the same checks on Prometheus and
// VictoriaMetrics: answers, bad PromQL typed as such, and a range longer
// than 11,000 points that only works because it is split.
func TestRemoteRealServers(t *testing.T) {
	t.Parallel()
	servers := map[string]func(t *testing.T) *testservers.Server{
		"prometheus":       func(t *testing.T) *testservers.Server { return testservers.Prometheus(t, "") },
		"victoria-metrics": func(t *testing.T) *testservers.Server { return testservers.VictoriaMetrics(t) },
	}
	for name, start := range servers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := start(t)
			b, err := backend.Open(backend.Options{URL: srv.URL, Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			now := time.Now()
			v, err := b.Query(ctx, "vector(3)", now)
			if err != nil {
				t.Fatal(err)
			}
			if vec, ok := v.(model.Vector); !ok || len(vec) != 1 || vec[0].Value != 3 {
				t.Fatalf("vector(3) = %v", v)
			}
			if _, err := b.Query(ctx, "sum(", now); !backend.IsType(err, backend.ErrBadQuery) {
				t.Fatalf("bad PromQL error = %v, want bad_query", err)
			}
			// 40,001 points: over both servers' per-series limits.
			rs, re := now.Add(-40000*time.Second), now
			v, err = b.QueryRange(ctx, "vector(1)", rs, re, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			m := v.(model.Matrix)
			if len(m) != 1 || len(m[0].Values) != 40001 {
				t.Fatalf("long range: %d series, want 1 of 40001 points", len(m))
			}
			var e *backend.Error
			_, err = b.Query(ctx, "sum(", now)
			if !errors.As(err, &e) || e.Backend != srv.URL {
				t.Errorf("error names backend %q, want %q", e.Backend, srv.URL)
			}
		})
	}
}

// Every backend is what the analyzer reads through.
var (
	_ analyzer.Querier = backend.Querier(nil)
	_ analyzer.Querier = backend.Backend(nil)
)
