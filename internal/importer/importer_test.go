package importer_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/internal/backend"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/importer"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/internal/testservers"
)

const jtlHeader = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n"

// writeJTL generates a JTL with one 10-minute session a month for four
// months, two labels, and every kind of outcome, plus malformedRows bad
// rows. It returns the expected final count per interface/outcome.
func writeJTL(t testing.TB, path string, rowsPerSession int, malformedRows int) (map[string]float64, []time.Time) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f) // a failed write shows in Flush
	fmt.Fprint(w, jtlHeader)
	rnd := rand.New(rand.NewPCG(1, 2))
	want := map[string]float64{}
	var ends []time.Time
	labels := []string{"Query Balance", "POST /api/Recharge"}
	ifaces := []string{"query_balance", "post_api_recharge"}
	base := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	line := 1
	for m := range 4 {
		start := base.AddDate(0, m, 0)
		var last time.Time
		for i := range rowsPerSession {
			ts := start.Add(time.Duration(i) * 10 * time.Minute / time.Duration(rowsPerSession))
			elapsed := 5 + rnd.IntN(400)
			k := rnd.IntN(2)
			code, msg, success := "200", "OK", "true"
			outcome := "success"
			switch r := rnd.IntN(100); {
			case r < 5:
				code, msg, success, outcome = "503", "Service Unavailable", "false", "system_failure"
			case r < 8:
				code, msg, success, outcome = "Non HTTP response code: java.net.SocketTimeoutException", "Read timed out", "false", "system_failure"
			case r < 15:
				success, outcome = "false", "business_failure"
			}
			fmt.Fprintf(w, "%d,%d,%s,%s,%s,Thread 1-1,text,%s,,100,50,1,1,http://x/y,%d,0,1\n",
				ts.UnixMilli(), elapsed, labels[k], code, msg, success, elapsed)
			line++
			want[ifaces[k]+"/"+outcome]++
			if d := ts.Add(time.Duration(elapsed) * time.Millisecond); d.After(last) {
				last = d
			}
			if i == rowsPerSession/2 && m < malformedRows {
				fmt.Fprintf(w, "notatime,1,x,200,OK,t,text,true,,1,1,1,1,u,1,0,1\n")
				line++
			}
		}
		ends = append(ends, last)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return want, ends
}

func TestSanitizeInterface(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"GET /api/Balance (v2)": "get_api_balance_v2",
		"Query Balance":         "query_balance",
		"/api/recharge":         "api_recharge",
		"42 things":             "i_42_things",
		"___":                   "unnamed",
		"ÄÖÜ login":             "login",
	}
	for in, want := range tests {
		if got := importer.SanitizeInterface(in); got != want {
			t.Errorf("SanitizeInterface(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSanitizeInterfaceIsValid runs every string of up to four characters
// from an alphabet of awkward ones through SanitizeInterface: each result
// must be a name that scenario files, baselines and alerts accept.
func TestSanitizeInterfaceIsValid(t *testing.T) {
	t.Parallel()
	alphabet := []string{"a", "Z", "0", "9", "_", "-", " ", "/", ".", "é", "\u212a" /* Kelvin sign, lower-cases to k */, "İ", "\xff", "\n"}
	var walk func(prefix string, depth int)
	walk = func(prefix string, depth int) {
		if got := importer.SanitizeInterface(prefix); !conventions.ValidInterfaceName(got) {
			t.Errorf("SanitizeInterface(%q) = %q, not a valid interface name", prefix, got)
		}
		if depth == 0 {
			return
		}
		for _, c := range alphabet {
			walk(prefix+c, depth-1)
		}
	}
	walk("", 4)
}

func FuzzSanitizeInterface(f *testing.F) {
	for _, s := range []string{"GET /api/Balance (v2)", "42 things", "___", "ÄÖÜ login", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := importer.SanitizeInterface(s)
		if !conventions.ValidInterfaceName(got) {
			t.Fatalf("SanitizeInterface(%q) = %q, not a valid interface name", s, got)
		}
		// A valid name from a map rule is used as it is.
		if r, err := importer.ParseMapRule("x=" + got); err != nil || r.Interface != got {
			t.Fatalf("ParseMapRule refuses the sanitised name %q: %v", got, err)
		}
	})
}

func TestJTLClassification(t *testing.T) {
	t.Parallel()
	in := jtlHeader +
		"1700000000000,10,a,200,OK,t,text,true,,1,1,1,1,u,1,0,1\n" +
		"1700000000000,10,a,200,OK,t,text,false,assert,1,1,1,1,u,1,0,1\n" +
		"1700000000000,10,a,503,x,t,text,false,,1,1,1,1,u,1,0,1\n" +
		"1700000000000,10,a,404,x,t,text,true,,1,1,1,1,u,1,0,1\n" +
		"1700000000000,10,a,Non HTTP response code: java.net.ConnectException,Connection refused,t,text,false,,1,1,1,1,u,1,0,1\n" +
		"1700000000000,10,a,Non HTTP response code: java.net.UnknownHostException,x,t,text,false,,1,1,1,1,u,1,0,1\n" +
		"1700000000000,-1,a,200,OK,t,text,true,,1,1,1,1,u,1,0,1\n" +
		"1700000000000,10,a,200,OK,t,text,maybe,,1,1,1,1,u,1,0,1\n" +
		"1700000000000,10,a,200\n"
	st, _ := importer.ParseStatusSet("200-399")
	r, err := importer.NewJTLReader("x.jtl", strings.NewReader(in), &importer.Namer{}, st)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"success/", "business_failure/business_code", "system_failure/http_5xx", "system_failure/http_4xx",
		"system_failure/connection_refused", "system_failure/dns",
		"x.jtl:8: elapsed:", "x.jtl:9: success:", "x.jtl:10: 4 fields",
	}
	for i, w := range want {
		rec, err := r.Next()
		got := rec.Outcome + "/" + rec.Reason
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, w) {
			t.Errorf("row %d: got %q, want %q", i+2, got, w)
		}
	}
	if _, err := importer.NewJTLReader("y.jtl", strings.NewReader("a,b\n"), &importer.Namer{}, st); err == nil || !strings.Contains(err.Error(), "y.jtl:1: header lacks") {
		t.Errorf("bad header error = %v", err)
	}
}

func TestVegetaClassificationAndMap(t *testing.T) {
	t.Parallel()
	in := `{"attack":"","seq":0,"code":200,"timestamp":"2025-01-01T00:00:00Z","latency":5000000,"bytes_out":0,"bytes_in":10,"error":"","body":null,"method":"GET","url":"http://h/api/balance?id=1"}
{"code":0,"timestamp":"2025-01-01T00:00:01Z","latency":2000000000,"error":"Get \"http://h/api/x\": context deadline exceeded","url":"http://h/api/x"}
{"code":500,"timestamp":"2025-01-01T00:00:01Z","latency":1,"error":"500 Internal Server Error","url":"http://h/api/balance"}
not json
{"code":200,"latency":1,"url":"http://h/"}
`
	st, _ := importer.ParseStatusSet("200")
	rule, err := importer.ParseMapRule(`/api/balance=query_balance`)
	if err != nil {
		t.Fatal(err)
	}
	r := importer.NewVegetaReader("a.json", strings.NewReader(in), &importer.Namer{Rules: []importer.MapRule{rule}}, st)
	want := []string{"query_balance success/", "api_x system_failure/timeout", "query_balance system_failure/http_5xx", "a.json:4: not a vegeta", "a.json:5: timestamp: missing"}
	for i, w := range want {
		rec, err := r.Next()
		got := rec.Interface + " " + rec.Outcome + "/" + rec.Reason
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, w) {
			t.Errorf("line %d: got %q, want %q", i+1, got, w)
		}
	}
	if _, err := importer.ParseMapRule("(=x"); err == nil {
		t.Error("bad regex accepted")
	}
	if _, err := importer.ParseMapRule("a=Bad-Name"); err == nil {
		t.Error("bad interface name accepted")
	}
	// Valid names that sanitising would change are valid all the same.
	for _, name := range []string{"a__b", "a_"} {
		if r, err := importer.ParseMapRule("x=" + name); err != nil || r.Interface != name {
			t.Errorf("ParseMapRule(x=%s) = %+v, %v; want the name as written", name, r, err)
		}
	}
}

// comparison queries, evaluated at each session's end.
var comparisons = []string{
	`sum by (interface, outcome) (perfbase_requests_total)`,
	`sum by (interface, reason) (perfbase_request_failures_total)`,
	`sum by (interface) (perfbase_requests_scheduled_total) - sum by (interface) (perfbase_requests_total)`,
	`histogram_quantile(0.99, sum by (le, interface) (perfbase_request_duration_seconds_bucket{outcome="success"}))`,
	`sum by (interface) (perfbase_request_duration_seconds_sum) / sum by (interface) (perfbase_request_duration_seconds_count)`,
	`count by (run_id, scenario, mode) (perfbase_run_info)`,
}

func vectorMap(t *testing.T, v model.Value) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	vec, ok := v.(model.Vector)
	if !ok {
		t.Fatalf("result is %T, want vector", v)
	}
	for _, s := range vec {
		m := s.Metric.Clone()
		delete(m, model.MetricNameLabel)
		out[m.String()] = float64(s.Value)
	}
	return out
}

func sameVectors(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || math.Abs(v-w) > 1e-9*math.Max(1, math.Abs(v)) {
			return false
		}
	}
	return true
}

// tickAfter is the first sample time at or after t (15 s grid), when every
// request completed before t is counted.
func tickAfter(t time.Time) time.Time {
	return t.Truncate(15 * time.Second).Add(15 * time.Second)
}

// TestImportSameAnswersEverywhere is the done-when test: a JTL spanning
// four months, imported into the embedded store, backfilled into a real
// Prometheus from the OpenMetrics export, and loaded into a real
// VictoriaMetrics through its import API, answers the same PromQL with
// the same numbers, which are also the counts of the generated file.
func TestImportSameAnswersEverywhere(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	jtl := filepath.Join(dir, "months.jtl")
	want, ends := writeJTL(t, jtl, 750, 2)
	o := importer.DefaultOptions()

	// Embedded store.
	db, err := store.Open(filepath.Join(dir, "data"), store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	res := importer.ImportFile(ctx, jtl, o, importer.StoreDestination{DB: db})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Rows != 3000 || res.Malformed != 2 || len(res.MalformedRows) != 2 || !strings.Contains(res.MalformedRows[0], "months.jtl:") {
		t.Fatalf("rows %d malformed %d %v", res.Rows, res.Malformed, res.MalformedRows)
	}
	backends := map[string]backend.Querier{"embedded": backend.Embedded(db)}

	// The file's own counts, at the end of the last session.
	got, err := backends["embedded"].Query(ctx, comparisons[0], tickAfter(ends[3]))
	if err != nil {
		t.Fatal(err)
	}
	gm := vectorMap(t, got)
	for k, w := range want {
		iface, outcome, _ := strings.Cut(k, "/")
		key := fmt.Sprintf(`{interface=%q, outcome=%q}`, iface, outcome)
		if gm[key] != w {
			t.Errorf("embedded %s = %v, want %v (all: %v)", key, gm[key], w, gm)
		}
	}

	// OpenMetrics -> promtool -> Prometheus.
	promtool := testservers.Need(t, "promtool")
	om := filepath.Join(dir, "months.om")
	omDest, err := importer.NewOpenMetricsDestination(om)
	if err != nil {
		t.Fatal(err)
	}
	if r := importer.ImportFile(ctx, jtl, o, omDest); r.Err != nil {
		t.Fatal(r.Err)
	}
	if err := omDest.Close(ctx, true); err != nil {
		t.Fatal(err)
	}
	blocks := filepath.Join(dir, "prom-data")
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=1458h", om, blocks).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	prom := testservers.Prometheus(t, "", "--storage.tsdb.path="+blocks)
	if backends["prometheus"], err = backend.NewRemote(backend.RemoteOptions{URL: prom.URL}); err != nil {
		t.Fatal(err)
	}

	// VictoriaMetrics import API.
	vm := testservers.VictoriaMetrics(t)
	vmDest, err := importer.NewVMImportDestination(vm.URL, configDefault())
	if err != nil {
		t.Fatal(err)
	}
	if r := importer.ImportFile(ctx, jtl, o, vmDest); r.Err != nil {
		t.Fatal(r.Err)
	}
	if err := vmDest.Close(ctx, true); err != nil {
		t.Fatal(err)
	}
	if backends["victoria-metrics"], err = backend.NewRemote(backend.RemoteOptions{URL: vm.URL}); err != nil {
		t.Fatal(err)
	}

	// Prometheus remote write.
	rw := testservers.Prometheus(t, "storage:\n  tsdb:\n    out_of_order_time_window: 4000d\n", "--web.enable-remote-write-receiver")
	rwDest, err := importer.NewRemoteWriteDestination(rw.URL+"/api/v1/write", configDefault())
	if err != nil {
		t.Fatal(err)
	}
	if r := importer.ImportFile(ctx, jtl, o, rwDest); r.Err != nil {
		t.Fatal(r.Err)
	}
	if backends["remote-write"], err = backend.NewRemote(backend.RemoteOptions{URL: rw.URL}); err != nil {
		t.Fatal(err)
	}

	names := []string{"prometheus", "victoria-metrics", "remote-write"}
	for _, end := range ends {
		at := tickAfter(end)
		for _, q := range comparisons {
			ref, err := backends["embedded"].Query(ctx, q, at)
			if err != nil {
				t.Fatalf("embedded %s: %v", q, err)
			}
			rm := vectorMap(t, ref)
			if len(rm) == 0 {
				t.Fatalf("embedded %s at %s: empty", q, at)
			}
			for _, n := range names {
				v, err := backends[n].Query(ctx, q, at)
				if err != nil {
					t.Errorf("%s %s: %v", n, q, err)
					continue
				}
				if m := vectorMap(t, v); !sameVectors(rm, m) {
					t.Errorf("%s at %s: %s\n embedded: %v\n %s: %v", n, at.Format(time.RFC3339), q, sorted(rm), n, sorted(m))
				}
			}
		}
	}
}

func sorted(m map[string]float64) string {
	var ks []string
	for k, v := range m {
		ks = append(ks, fmt.Sprintf("%s=%g", k, v))
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// FuzzJTLReader: any input gives rows or errors, never a panic, and every
// row read has a sane time, a non-negative latency and a valid name.
func FuzzJTLReader(f *testing.F) {
	f.Add([]byte("timeStamp,elapsed,label,responseCode,success\n1736899200000,20,a,200,true\n"))
	f.Add([]byte("timeStamp,elapsed,label,responseCode,success\n17368992000000,20,GET http://u:p@h/x?t=1,500,false\n"))
	f.Add([]byte("elapsed,timeStamp\n\"1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, _ := importer.ParseStatusSet("200-399")
		rd, err := importer.NewJTLReader("f.jtl", bytes.NewReader(data), &importer.Namer{}, st)
		if err != nil {
			return
		}
		for range 1000 {
			rec, err := rd.Next()
			if err != nil {
				var re *importer.RowError
				if errors.As(err, &re) {
					continue
				}
				return
			}
			checkFuzzRecord(t, rec)
		}
	})
}

// FuzzVegetaReader is FuzzJTLReader for vegeta's JSON results.
func FuzzVegetaReader(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2025-01-15T00:00:00Z","latency":20000000,"code":200,"url":"http://h/x"}` + "\n"))
	f.Add([]byte(`{"timestamp":"9999-01-15T00:00:00Z","latency":-1,"code":200,"url":""}` + "\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, _ := importer.ParseStatusSet("200-399")
		rd := importer.NewVegetaReader("f.json", bytes.NewReader(data), &importer.Namer{}, st)
		for range 1000 {
			rec, err := rd.Next()
			if err != nil {
				var re *importer.RowError
				if errors.As(err, &re) {
					continue
				}
				return
			}
			checkFuzzRecord(t, rec)
		}
	})
}

func checkFuzzRecord(t *testing.T, rec importer.Record) {
	t.Helper()
	if rec.Latency < 0 || rec.Done.Year() < 1990 || rec.Done.After(time.Now().Add(49*time.Hour)) {
		t.Fatalf("record with an insane time: %+v", rec)
	}
	if !conventions.ValidInterfaceName(rec.Interface) {
		t.Fatalf("record with an invalid interface name %q", rec.Interface)
	}
}
