package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportFutureTyposAreMalformed: a timestamp with a digit too many is a
// malformed row named by file, line and field, never imported, and the
// store still records the next run (it used to refuse every later run
// with "too old sample").
func TestImportFutureTyposAreMalformed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "st")
	typo := filepath.Join(dir, "typo.jtl")
	if err := os.WriteFile(typo, []byte("timeStamp,elapsed,label,responseCode,success\n"+
		"1736899200000,20,a,200,true\n17368992000000,20,a,200,true\n1736899201000,20,a,200,true\n"+
		"1736899202000,99999999999,a,200,true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := perfbase(t, "import", "--data-dir", data, typo)
	if code != 0 || !strings.Contains(stderr, "typo.jtl:3") || !strings.Contains(stderr, "timeStamp") ||
		!strings.Contains(stderr, "typo.jtl:5") || !strings.Contains(stdout, "2 rows, 2 malformed") {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	target, _, _ := demoTarget(t)
	scen := writeScenario(t, target.URL, twoInterfaces)
	code, stdout, stderr = perfbase(t, "run", "--listen", "", "--progress", "off", "--data-dir", data, scen)
	if code != 0 || !strings.Contains(stderr, "run recorded in the embedded store") {
		t.Fatalf("run after the import: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestImportLabelsLoseCredentials: user info and query strings of a JTL
// label never become part of an interface name, on stdout or in the store.
func TestImportLabelsLoseCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "st")
	f := filepath.Join(dir, "creds.jtl")
	if err := os.WriteFile(f, []byte("timeStamp,elapsed,label,responseCode,success\n"+
		"1736899200000,20,GET http://admin:S3cretPW@host/api/x?token=TK123,200,true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := perfbase(t, "import", "--data-dir", data, f)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, names, _ := perfbase(t, "query", "--data-dir", data, "--time", "2025-01-15T00:00:30Z", "count by (interface) (perfbase_requests_total)")
	for _, out := range []string{stdout, stderr, names} {
		low := strings.ToLower(out)
		for _, secret := range []string{"admin", "s3cretpw", "token", "tk123"} {
			if strings.Contains(low, secret) {
				t.Errorf("%q leaked:\n%s", secret, out)
			}
		}
	}
	if !strings.Contains(names, "get_http_host_api_x") {
		t.Errorf("interface not named from the URL's host and path:\n%s", names)
	}
}
