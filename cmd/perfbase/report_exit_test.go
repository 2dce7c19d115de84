package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/internal/store"
)

// TestReportFailsClosed: a report that could not be made exits 2, never 1
// (regressed) nor 0 (stable): backends that are unreachable, fail, answer
// garbage or hang, and a store with no data for the month.
func TestReportFailsClosed(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(fail.Close)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>not prometheus</html>"))
	}))
	t.Cleanup(garbage.Close)
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(stop) })
	empty := filepath.Join(t.TempDir(), "empty")
	db, err := store.Open(empty, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable", []string{"--url", closed}, "could not make the report"},
		{"server error", []string{"--url", fail.URL}, "could not make the report"},
		{"garbage", []string{"--url", garbage.URL}, "could not make the report"},
		{"hangs", []string{"--url", hang.URL, "--timeout", "1s"}, "could not make the report"},
		{"empty store", []string{"--data-dir", empty}, "no steady-phase data for 2025-04"},
		{"unknown run", []string{"--data-dir", empty, "--run", "x"}, `run "x"`},
		{"no store", []string{"--data-dir", filepath.Join(t.TempDir(), "none")}, "no perfbase data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"report"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--run") {
				args = append(args, "--month", "2025-04")
			}
			start := time.Now()
			code, stdout, stderr := perfbase(t, args...)
			t.Logf("%s: exit %d after %s: %s", tc.name, code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(stderr))
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d after %s, want 2 with %q\nstdout:\n%s\nstderr:\n%s", code, time.Since(start), tc.want, stdout, stderr)
			}
		})
	}
}
