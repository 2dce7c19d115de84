package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidate checks the README's example of a bad scenario: every problem
// with its place, then exit code 2; and that a good file passes.
func TestValidate(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte(`name: bad
target: http://127.0.0.1:8080
interfaces:
  - {name: query_balance, path: /a}
  - {name: query_balance, path: /b}
mix: {nope: 1}
stages:
  - {duration: 1s, rate: 0}
thresholds:
  other: {p99: 1s}
colour: red
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := perfbase(t, "validate", bad)
	want := strings.ReplaceAll(`bad.yml:5:6: interfaces[1].name: "query_balance" is already the name of interfaces[0]
bad.yml:6:7: mix.nope: names no interface
bad.yml:8:20: stages[0].rate: must be positive, not 0
bad.yml:10:3: thresholds.other: names no interface (use "*" for all)
bad.yml:11:1: colour: unknown field
perfbase: 1 of 1 scenario files are invalid
`, "bad.yml", bad)
	if code != exitBadInput || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, stderr:\n%s", code, stdout, stderr, exitBadInput, want)
	}

	good := "../../examples/mixed.yml"
	code, stdout, stderr = perfbase(t, "validate", good)
	if code != exitOK || !strings.HasPrefix(stdout, good+": ok: ") || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout, stderr, good+": ok: ...")
	}
}
