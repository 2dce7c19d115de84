package exporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestServerNegotiatesOpenMetrics(t *testing.T) {
	t.Parallel()
	m, err := New(Options{RunID: "r1", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	record(m)
	s, err := Listen("127.0.0.1:0", m.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	for _, tc := range []struct{ accept, wantType string }{
		{"application/openmetrics-text;version=1.0.0", "application/openmetrics-text"},
		{"text/plain", "text/plain"},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/metrics", nil)
		req.Header.Set("Accept", tc.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
			t.Errorf("Accept %s: Content-Type %s, want %s", tc.accept, ct, tc.wantType)
		}
		if !strings.Contains(string(body), `perfbase_requests_total{interface="query_balance",phase="steady",outcome="success",run_id="r1"} 90`) &&
			!strings.Contains(string(body), `perfbase_requests_total{interface="query_balance",outcome="success",phase="steady",run_id="r1"} 90`) {
			t.Errorf("Accept %s: exposition lacks the success counter:\n%.500s", tc.accept, body)
		}
	}
}

func TestListenReportsPortInUse(t *testing.T) {
	t.Parallel()
	m, _ := New(Options{RunID: "r1"})
	s, err := Listen("127.0.0.1:0", m.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	if _, err := Listen(s.Addr(), m.Registry(), nil); err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Errorf("second Listen on %s: %v, want an error naming the address", s.Addr(), err)
	}
}

func TestPushVictoriaMetricsFormat(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/import/prometheus" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	m, _ := New(Options{RunID: "r1", Now: fixedNow})
	record(m)
	p, err := NewPusher(PushOptions{URL: srv.URL, Kind: PushVictoriaMetrics, RunID: "r1"}, m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Push(ctx); err != nil {
		t.Fatal(err)
	}
	body := <-got
	if !strings.Contains(body, `perfbase_requests_dropped_total{interface="query_balance",phase="steady",run_id="r1"} 5`) {
		t.Errorf("pushed body lacks the dropped counter:\n%.800s", body)
	}
}

func TestPushErrorsRedactCredentials(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	m, _ := New(Options{RunID: "r1"})
	u := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	for _, kind := range []string{PushVictoriaMetrics, PushPushgateway} {
		p, err := NewPusher(PushOptions{URL: u, Kind: kind, RunID: "r1"}, m.Registry())
		if err != nil {
			t.Fatal(err)
		}
		err = p.Push(context.Background())
		if err == nil {
			t.Fatalf("%s: push to a 403 succeeded", kind)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the password: %v", kind, err)
		}
	}
}

func TestPushOptionsValidate(t *testing.T) {
	t.Parallel()
	good := PushOptions{URL: "http://127.0.0.1:9091", Kind: PushPushgateway}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*PushOptions){
		"no scheme":    func(o *PushOptions) { o.URL = "127.0.0.1:9091" },
		"bad kind":     func(o *PushOptions) { o.Kind = "graphite" },
		"neg interval": func(o *PushOptions) { o.Interval = -time.Second },
	} {
		o := good
		mut(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
