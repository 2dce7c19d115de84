package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// seenRequest is what the recording target saw of one request.
type seenRequest struct {
	at     time.Time
	path   string
	query  string
	phone  string
	mark   string
	auth   string
	bodyID string
}

// recordingTarget answers every request and keeps what it saw; paths
// under /fail/ answer 500 with a body naming the request.
type recordingTarget struct {
	mu  sync.Mutex
	all []seenRequest
}

func (rt *recordingTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &body)
	rt.mu.Lock()
	rt.all = append(rt.all, seenRequest{at: time.Now(), path: r.URL.EscapedPath(), query: r.URL.RawQuery,
		phone: r.Header.Get("X-Phone"), mark: r.Header.Get("X-Pressure-Test"), auth: r.Header.Get("Authorization"), bodyID: body.ID})
	rt.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/fail/") {
		w.Header().Set("Set-Cookie", "session=abc")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"code":"E500","echo":%q}`, string(b))
		return
	}
	_, _ = w.Write([]byte(`{"code":"0000"}`))
}

func (rt *recordingTarget) requests() []seenRequest {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]seenRequest(nil), rt.all...)
}

// writeAccounts writes n rows: id a0001..., phone 1380000xxxx, a month.
func writeAccounts(t *testing.T, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,phone,month\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "a/%04d,1380000%04d,2026-%02d\n", i, i, i%12+1)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func dataScenario(t *testing.T, dir, target, order, stage, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "scenario.yml")
	text := fmt.Sprintf(`name: data
target: %s
defaults: {timeout: 2s, expect: {status: [200]}}
data:
  acct: {file: accounts.csv, order: %s, on_exhausted: stop}
mark: {header: X-Pressure-Test, value: "pt-{{run_id}}"}
setup:
  - {name: init, method: POST, path: "/setup/{{run_id}}"}
teardown:
  - {name: clean, method: POST, path: "/teardown/{{run_id}}"}
interfaces:
  - name: query_bill
    method: POST
    path: /bill/{{acct.id}}?month={{acct.month}}&seq={{seq}}
    headers: {X-Phone: "{{acct.phone}}"}
    body: '{"id": "{{acct.id}}", "req": "{{uuid}}"}'
stages:
  - %s
%s`, target, order, stage, extra)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadRequests are the target's requests to the interface, in order.
func loadRequests(all []seenRequest) []seenRequest {
	var out []seenRequest
	for _, r := range all {
		if strings.HasPrefix(r.path, "/bill/") {
			out = append(out, r)
		}
	}
	return out
}

// checkSteps asserts set-up came first, teardown last, and every request
// carried the run's mark.
func checkSteps(t *testing.T, all []seenRequest, runID string) {
	t.Helper()
	if len(all) < 3 {
		t.Fatalf("the target saw %d requests", len(all))
	}
	if all[0].path != "/setup/"+runID {
		t.Errorf("first request %s, want the set-up /setup/%s", all[0].path, runID)
	}
	if last := all[len(all)-1]; last.path != "/teardown/"+runID {
		t.Errorf("last request %s, want the teardown /teardown/%s", last.path, runID)
	}
	for _, r := range all {
		if r.mark != "pt-"+runID {
			t.Errorf("%s: X-Pressure-Test %q, want pt-%s", r.path, r.mark, runID)
			break
		}
	}
}

// TestRunUniqueRows: with order unique over 500 rows and 400 requests no
// row is used twice and each request carried its row in path, header and
// JSON body; set-up came first, teardown last, all marked. Two shards of
// the same scenario never share a row.
func TestRunUniqueRows(t *testing.T) {
	// Not parallel: its load would skew the latency-sensitive tests
	// that run in parallel.
	target := &recordingTarget{}
	srv := httptest.NewServer(target)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	writeAccounts(t, dir, 500)
	scen := dataScenario(t, dir, srv.URL, "unique", "{duration: 2s, rate: 200}", "")
	sumPath := filepath.Join(dir, "summary.json")
	code, stdout, stderr := perfbase(t, "run", "--run-id", "u-1", "--listen", "", "--progress", "off", "--no-store", "--summary-json", sumPath, scen)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	all := target.requests()
	checkSteps(t, all, "u-1")
	load := loadRequests(all)
	sum := readSummary(t, sumPath)
	// 400 scheduled; on a busy machine a few may be dropped, never sent.
	if is := sum.Interfaces[0]; len(load) < 300 || uint64(len(load)) != is.Success+is.BusinessFailure+is.SystemFailure {
		t.Errorf("%d load requests reached the target; the summary says %+v", len(load), is)
	}
	used := map[string]bool{}
	for _, r := range load {
		// /bill/a%2F0042?month=2026-07&seq=..: the id escaped in the path.
		id := strings.TrimPrefix(r.path, "/bill/")
		n := 0
		if _, err := fmt.Sscanf(id, "a%%2F%04d", &n); err != nil {
			t.Fatalf("path %s: %v", r.path, err)
		}
		if used[id] {
			t.Errorf("row %d used twice", n)
		}
		used[id] = true
		if want := fmt.Sprintf("1380000%04d", n); r.phone != want {
			t.Errorf("row %d: X-Phone %q, want %q", n, r.phone, want)
		}
		if want := fmt.Sprintf("a/%04d", n); r.bodyID != want {
			t.Errorf("row %d: body id %q, want %q", n, r.bodyID, want)
		}
		if !strings.HasPrefix(r.query, fmt.Sprintf("month=2026-%02d&seq=", n%12+1)) {
			t.Errorf("row %d: query %q", n, r.query)
		}
	}
	if len(sum.Setup) != 1 || !sum.Setup[0].OK || len(sum.Teardown) != 1 || !sum.Teardown[0].OK {
		t.Errorf("summary steps: setup %+v, teardown %+v", sum.Setup, sum.Teardown)
	}

	// Two shards: disjoint rows.
	sharded := &recordingTarget{}
	srv2 := httptest.NewServer(sharded)
	t.Cleanup(srv2.Close)
	dir2 := t.TempDir()
	writeAccounts(t, dir2, 500)
	scen2 := dataScenario(t, dir2, srv2.URL, "unique", "{duration: 1s, rate: 300}", "")
	for _, shard := range []string{"1/2", "2/2"} {
		if code, stdout, stderr := perfbase(t, "run", "--run-id", "s-1", "--shard", shard, "--listen", "", "--progress", "off", "--no-store", scen2); code != exitOK {
			t.Fatalf("shard %s: exit %d\n%s\n%s", shard, code, stdout, stderr)
		}
	}
	seen := map[string]int{}
	for _, r := range loadRequests(sharded.requests()) {
		seen[r.path]++
	}
	if n := len(loadRequests(sharded.requests())); n < 200 {
		t.Errorf("two shards sent %d requests, want about 300", n)
	}
	for p, n := range seen {
		if n > 1 {
			t.Errorf("%s used by %d requests across shards", p, n)
		}
	}
}

// TestRunSequentialAndRandomRows: sequential wraps in file order; random
// uses the rows about uniformly.
func TestRunSequentialAndRandomRows(t *testing.T) {
	// Not parallel: its load would skew the latency-sensitive tests
	// that run in parallel.
	for _, order := range []string{"sequential", "random"} {
		target := &recordingTarget{}
		srv := httptest.NewServer(target)
		t.Cleanup(srv.Close)
		dir := t.TempDir()
		writeAccounts(t, dir, 10)
		scen := dataScenario(t, dir, srv.URL, order, "{duration: 2s, rate: 200}", "")
		// recycle, not stop: 400 requests over 10 rows.
		text, _ := os.ReadFile(scen)
		_ = os.WriteFile(scen, bytes.Replace(text, []byte("on_exhausted: stop"), []byte("on_exhausted: recycle"), 1), 0o644)
		if code, stdout, stderr := perfbase(t, "run", "--listen", "", "--progress", "off", "--no-store", scen); code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", order, code, stdout, stderr)
		}
		load := loadRequests(target.requests())
		counts := map[string]int{}
		for _, r := range load {
			counts[r.path]++
		}
		if len(counts) != 10 {
			t.Errorf("%s: %d distinct rows used, want all 10", order, len(counts))
		}
		if order == "sequential" {
			// Round robin: every row is used as often as any other, give
			// or take the one lap in progress.
			lo, hi := len(load), 0
			for _, c := range counts {
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 {
				t.Errorf("sequential: rows used %d to %d times: %v", lo, hi, counts)
			}
			continue
		}
		for p, c := range counts {
			// 40 expected each; 5 standard deviations is about 30.
			if c < 10 || c > 70 {
				t.Errorf("random: %s used %d times of %d", p, c, len(load))
			}
		}
	}
}

// TestRunStepsAroundInterruptsAndAborts: teardown runs after SIGINT and
// after a guard abort; a failing set-up sends no load and exits 1.
func TestRunStepsAroundInterruptsAndAborts(t *testing.T) {
	// Not parallel: its load would skew the latency-sensitive tests
	// that run in parallel.
	bin := binary(t)
	t.Run("sigint", func(t *testing.T) {
		t.Parallel()
		target := &recordingTarget{}
		srv := httptest.NewServer(target)
		t.Cleanup(srv.Close)
		dir := t.TempDir()
		writeAccounts(t, dir, 500)
		scen := dataScenario(t, dir, srv.URL, "sequential", "{duration: 10m, rate: 50}", "")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "run", "--run-id", "i-1", "--listen", "", "--progress", "off", "--no-store", scen)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for len(loadRequests(target.requests())) < 20 && ctx.Err() == nil && cmd.ProcessState == nil {
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
			t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, out.String())
		}
		checkSteps(t, target.requests(), "i-1")
	})
	t.Run("guard", func(t *testing.T) {
		t.Parallel()
		target := &recordingTarget{}
		srv := httptest.NewServer(target)
		t.Cleanup(srv.Close)
		dir := t.TempDir()
		writeAccounts(t, dir, 500)
		// Every load request fails: the guard aborts.
		scen := dataScenario(t, dir, srv.URL, "sequential", "{duration: 1m, rate: 100}",
			"guard: {min_system_success: 0.5, window: 1s, min_requests: 20}\n")
		text, _ := os.ReadFile(scen)
		_ = os.WriteFile(scen, bytes.Replace(text, []byte("path: /bill/"), []byte("path: /fail/bill/"), 1), 0o644)
		code, stdout, stderr := perfbase(t, "run", "--run-id", "g-1", "--listen", "", "--progress", "off", "--no-store", scen)
		if code != exitFailed {
			t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, stdout, stderr)
		}
		all := target.requests()
		if last := all[len(all)-1]; last.path != "/teardown/g-1" {
			t.Errorf("last request %s, want the teardown", last.path)
		}
	})
	t.Run("failing setup", func(t *testing.T) {
		t.Parallel()
		target := &recordingTarget{}
		srv := httptest.NewServer(target)
		t.Cleanup(srv.Close)
		dir := t.TempDir()
		writeAccounts(t, dir, 500)
		scen := dataScenario(t, dir, srv.URL, "sequential", "{duration: 1m, rate: 100}", "")
		text, _ := os.ReadFile(scen)
		_ = os.WriteFile(scen, bytes.Replace(text, []byte("path: \"/setup/"), []byte("path: \"/fail/setup/"), 1), 0o644)
		code, stdout, stderr := perfbase(t, "run", "--run-id", "f-1", "--listen", "", "--progress", "off", "--no-store", scen)
		if code != exitFailed {
			t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, stdout, stderr)
		}
		if n := len(loadRequests(target.requests())); n != 0 {
			t.Errorf("a failed set-up sent %d load requests", n)
		}
		if !strings.Contains(stdout, "init (request) FAILED") {
			t.Errorf("the summary does not name the failed step:\n%s", stdout)
		}
	})
}

// TestRunFailureSamples: --failures keeps the actual input and output of
// failed requests, with the secret header and ${VAR} values redacted.
func TestRunFailureSamples(t *testing.T) {
	t.Setenv("PERFBASE_TEST_TOKEN", "s3cr3t-token-value")
	target := &recordingTarget{}
	srv := httptest.NewServer(target)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	writeAccounts(t, dir, 50)
	scen := dataScenario(t, dir, srv.URL, "sequential", "{duration: 1s, rate: 100}", "")
	text, _ := os.ReadFile(scen)
	text = bytes.Replace(text, []byte("path: /bill/"), []byte("path: /fail/bill/"), 1)
	text = bytes.Replace(text, []byte(`headers: {X-Phone: "{{acct.phone}}"}`),
		[]byte(`headers: {X-Phone: "{{acct.phone}}", Authorization: "Bearer ${PERFBASE_TEST_TOKEN}", X-Trace: "t-${PERFBASE_TEST_TOKEN}"}`), 1)
	_ = os.WriteFile(scen, text, 0o644)
	failures := filepath.Join(dir, "failures.jsonl")
	dataDir := filepath.Join(dir, "data")
	code, stdout, stderr := perfbase(t, "run", "--run-id", "fs-1", "--listen", "", "--progress", "off", "--data-dir", dataDir,
		"--failures", failures, "--failures-per-kind", "3", scen)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The run's record says where the samples are, for perfbase runs and report --run.
	code, runs, stderr := perfbase(t, "runs", "--data-dir", dataDir, "--format", "json")
	if code != exitOK || !strings.Contains(runs, `"failures_files": [`) || !strings.Contains(runs, failures) {
		t.Errorf("perfbase runs does not point to %s (exit %d):\n%s\n%s", failures, code, runs, stderr)
	}
	if !strings.Contains(stdout, "failure samples: "+failures) {
		t.Errorf("the summary does not point to the samples:\n%s", stdout)
	}
	raw, err := os.ReadFile(failures)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), "session=abc") {
		t.Errorf("a secret is in the failure samples:\n%s", raw)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	n := 0
	for sc.Scan() {
		n++
		var s struct {
			Interface, Reason, Method, URL string
			RequestHeaders                 map[string][]string `json:"request_headers"`
			RequestBody                    string              `json:"request_body"`
			Status                         int
			ResponseBody                   string `json:"response_body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		var row int
		if _, err := fmt.Sscanf(s.URL, srv.URL+"/fail/bill/a%%2F%04d", &row); err != nil {
			t.Fatalf("sample url %s: %v", s.URL, err)
		}
		if s.Interface != "query_bill" || s.Reason != "http_5xx" || s.Status != 500 || s.Method != http.MethodPost {
			t.Errorf("sample %d: %+v", n, s)
		}
		if got := s.RequestHeaders["X-Phone"]; len(got) != 1 || got[0] != fmt.Sprintf("1380000%04d", row) {
			t.Errorf("sample %d: X-Phone %v for row %d", n, got, row)
		}
		if got := s.RequestHeaders["Authorization"]; len(got) != 1 || got[0] != "<redacted>" {
			t.Errorf("sample %d: Authorization %v, want redacted", n, got)
		}
		if got := s.RequestHeaders["X-Trace"]; len(got) != 1 || got[0] != "t-<redacted>" {
			t.Errorf("sample %d: X-Trace %v, want its ${VAR} value redacted", n, got)
		}
		if !strings.Contains(s.RequestBody, fmt.Sprintf(`"id": "a/%04d"`, row)) || !strings.Contains(s.ResponseBody, `E500`) {
			t.Errorf("sample %d: request body %q, response body %q", n, s.RequestBody, s.ResponseBody)
		}
	}
	if n != 6 {
		t.Errorf("%d samples, want 3 first and 3 sampled", n)
	}
}

// TestRunTemplateErrors: unknown data sets and columns are validation
// errors at their line, exit 2, and nothing is sent.
func TestRunTemplateErrors(t *testing.T) {
	// Not parallel: its load would skew the latency-sensitive tests
	// that run in parallel.
	target := &recordingTarget{}
	srv := httptest.NewServer(target)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	writeAccounts(t, dir, 5)
	scen := dataScenario(t, dir, srv.URL, "sequential", "{duration: 1s, rate: 10}", "")
	text, _ := os.ReadFile(scen)
	text = bytes.Replace(text, []byte("{{acct.month}}"), []byte("{{acct.bill_month}}"), 1)
	text = bytes.Replace(text, []byte(`"{{acct.phone}}"`), []byte(`"{{phones.number}}"`), 1)
	_ = os.WriteFile(scen, text, 0o644)
	code, _, stderr := perfbase(t, "run", "--listen", "", "--progress", "off", "--no-store", scen)
	if code != exitBadInput {
		t.Fatalf("exit %d, want %d\n%s", code, exitBadInput, stderr)
	}
	for _, want := range []string{
		`scenario.yml:14:5: interfaces[0].path: {{acct.bill_month}}: data set "acct" has no column "bill_month": it has id, phone, month`,
		`interfaces[0].headers.X-Phone: {{phones.number}}: unknown data set "phones": the scenario has acct`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}
