package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSmallJTL(t *testing.T, malformed int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n")
	for i := range 100 {
		code, ok := "200", "true"
		if i%10 == 0 {
			code, ok = "500", "false"
		}
		fmt.Fprintf(&b, "%d,%d,Login Page,%s,OK,T,text,%s,,1,1,1,1,u,1,0,1\n", 1736500000000+int64(i)*1000, 20+i, code, ok)
	}
	for range malformed {
		b.WriteString("oops,1\n")
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("run-%d.jtl", malformed))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportCommand(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	good := writeSmallJTL(t, 1)
	code, out, errOut := perfbase(t, "import", "--data-dir", data, good)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, `run_id="run-1": 100 rows, 1 malformed`) || !strings.Contains(errOut, "run-1.jtl:102: 2 fields") {
		t.Errorf("unexpected output:\n%s\n%s", out, errOut)
	}
	code, out, errOut = perfbase(t, "query", "--data-dir", data, "--time", "1736500200", `sum by (outcome) (perfbase_requests_total{run_id="run-1", interface="login_page"})`)
	if code != 0 || !strings.Contains(out, `{outcome="success"}           90`) || !strings.Contains(out, `{outcome="system_failure"}    10`) {
		t.Errorf("query after import: exit %d\n%s%s", code, out, errOut)
	}

	tooBad := writeSmallJTL(t, 3)
	code, _, errOut = perfbase(t, "import", "--data-dir", data, "--max-malformed", "2", tooBad)
	if code != exitFailed || !strings.Contains(errOut, "NOT imported") {
		t.Errorf("too many malformed rows: exit %d\n%s", code, errOut)
	}
	code, out, _ = perfbase(t, "query", "--data-dir", data, "--time", "1736500200", `count(perfbase_run_info{run_id="run-3"})`)
	if code != 0 || !strings.Contains(out, "(no series)") {
		t.Errorf("a refused file left data behind:\n%s", out)
	}

	code, _, errOut = perfbase(t, "import", "--data-dir", data, "--map", "(=x", good)
	if code != exitBadInput || !strings.Contains(errOut, "--map") {
		t.Errorf("bad --map: exit %d\n%s", code, errOut)
	}
}
