package loader_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/exporter"
	"github.com/perfbase/perfbase/loader"
	"github.com/perfbase/perfbase/loader/scenario"
)

// BenchmarkRunMaxRate drives loader.Run as fast as a closed loop of users
// goes against a zero-latency target, recording into the exporter's
// metrics as `perfbase run` does, to profile the loader at its maximum rate:
//
//	go test -run '^$' -bench RunMaxRate -benchtime 1x -cpuprofile cpu.out ./loader/
//	go tool pprof -top -nodecount 40 loader.test cpu.out
//
// Environment: PERFBASE_BENCH_TARGET, the URL of a target in another
// process (`make bench` starts internal/benchtarget on another core), or
// an in-process one, which then shows in the profile; PERFBASE_BENCH_DURATION
// (default 3s) and PERFBASE_BENCH_USERS (default 64), or PERFBASE_BENCH_RATE
// for an open loop at that many requests per second instead.
//
// Besides ns/op (one op is one whole run) it reports req/s and, over the
// whole process, allocs and bytes per request.
func BenchmarkRunMaxRate(b *testing.B) {
	target := os.Getenv("PERFBASE_BENCH_TARGET")
	if target == "" {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"code":"0000","balance":100}`))
		}))
		b.Cleanup(srv.Close)
		target = srv.URL
	}
	duration := envDuration(b, "PERFBASE_BENCH_DURATION", 3*time.Second)
	stage := fmt.Sprintf("{duration: %s, users: %d}", duration, envInt(b, "PERFBASE_BENCH_USERS", 64))
	if os.Getenv("PERFBASE_BENCH_RATE") != "" {
		stage = fmt.Sprintf("{duration: %s, rate: %d}", duration, envInt(b, "PERFBASE_BENCH_RATE", 0))
	}

	dir := b.TempDir()
	var rows strings.Builder
	rows.WriteString("id,phone,month\n")
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&rows, "a%04d,1380000%04d,2026-%02d\n", i, i, i%12+1)
	}
	accounts := filepath.Join(dir, "accounts.csv")
	if err := os.WriteFile(accounts, []byte(rows.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	const static = `  - name: query_balance
    method: POST
    path: "/api/balance?account=a0001&month=2026-02"
    headers: {X-Phone: "13800000001"}
    body: '{"account": "a0001", "month": "2026-02", "seq": 1}'
`
	templated := `  - name: query_balance
    method: POST
    path: "/api/balance?account={{acct.id}}&month={{acct.month}}"
    headers: {X-Phone: "{{acct.phone}}"}
    body: '{"account": "{{acct.id}}", "month": "{{acct.month}}", "seq": {{seq}}}'
data:
  acct: {file: ` + accounts + `}
`
	exp := func() (loader.Recorder, error) { return exporter.New(exporter.Options{RunID: "bench"}) }
	for _, c := range []struct {
		name       string
		expect     string
		interfaces string
		rec        func() (loader.Recorder, error)
	}{
		{"status/nop", "{status: [200]}", "", func() (loader.Recorder, error) { return loader.NopRecorder{}, nil }},
		{"status/exporter", "{status: [200]}", "", exp},
		{"business/exporter", `{status: [200], business: {json: code, equals: "0000"}}`, "", exp},
		{"post-static/exporter", "{status: [200]}", static, exp},
		{"post-templates/exporter", "{status: [200]}", templated, exp},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := scenario.Parse(fmt.Appendf(nil, `name: bench
target: %s
defaults: {timeout: 5s, expect: %s}
interfaces:
%s
stages:
  - %s
`, target, c.expect, cmp.Or(c.interfaces, "  - {name: query_balance, path: /api/balance}\n"), stage), "bench.yml")
			if err != nil {
				b.Fatal(err)
			}
			var completed uint64
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			start := time.Now()
			for b.Loop() {
				rec, err := c.rec()
				if err != nil {
					b.Fatal(err)
				}
				sum, err := loader.Run(context.Background(), s, loader.Options{Recorder: rec})
				if err != nil {
					b.Fatal(err)
				}
				for _, is := range sum.Interfaces {
					completed += is.Success + is.BusinessFailure + is.SystemFailure
					if is.Success == 0 || is.SystemFailure > 0 {
						b.Fatalf("%s: %d successes, %d system failures: is the target up?", is.Name, is.Success, is.SystemFailure)
					}
				}
			}
			elapsed := time.Since(start)
			runtime.ReadMemStats(&ms1)
			if completed == 0 {
				b.Fatal("no request completed")
			}
			b.ReportMetric(float64(completed)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(completed), "allocs/req")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(completed), "B/req")
		})
	}
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 3s", name, v)
	}
	return d
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
