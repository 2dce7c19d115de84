package testservers_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/perfbase/perfbase/internal/testservers"
)

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func TestServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		start func(t *testing.T) *testservers.Server
		path  string
		want  string
	}{
		{
			name: "prometheus",
			start: func(t *testing.T) *testservers.Server {
				return testservers.Prometheus(t, "global: {scrape_interval: 1s}\n")
			},
			path: "/api/v1/status/flags",
			want: `"storage.tsdb.retention.time":"10y"`,
		},
		{
			name:  "victoria-metrics",
			start: func(t *testing.T) *testservers.Server { return testservers.VictoriaMetrics(t) },
			path:  "/flags",
			want:  "-retentionPeriod=\"100y\"",
		},
		{
			name: "alertmanager",
			start: func(t *testing.T) *testservers.Server {
				return testservers.Alertmanager(t, "route: {receiver: none}\nreceivers: [{name: none}]\n")
			},
			path: "/api/v2/status",
			want: `"cluster":{`,
		},
		{
			name:  "pushgateway",
			start: func(t *testing.T) *testservers.Server { return testservers.Pushgateway(t) },
			path:  "/metrics",
			want:  "pushgateway_build_info",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := tt.start(t)
			if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
				t.Errorf("URL = %q, want http://127.0.0.1:PORT", srv.URL)
			}
			if body := get(t, srv.URL+tt.path); !strings.Contains(body, tt.want) {
				t.Errorf("GET %s: body does not contain %q:\n%.2000s", tt.path, tt.want, body)
			}
		})
	}
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	if p := testservers.FreePort(t); p <= 0 || p > 65535 {
		t.Fatalf("FreePort() = %d", p)
	}
}

func TestNeedMissingSkips(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	t.Setenv("CI", "")
	var skipped bool
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		testservers.Need(t, "perfbase-no-such-binary-xyz")
	})
	if !skipped {
		t.Fatal("Need of a missing binary did not skip with CI unset")
	}
}
