package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/internal/backend"
)

// TestReadersDoNotLockOutARun: a reader of the embedded store (query,
// report, runs) opened first does not keep a perfbase run from recording
// into it, and still answers.
func TestReadersDoNotLockOutARun(t *testing.T) {
	t.Parallel()
	target, _, _ := demoTarget(t)
	scen := writeScenario(t, target.URL, twoInterfaces)
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, stderr := perfbase(t, "run", "--listen", "", "--progress", "off", "--data-dir", dir, "--run-id", "first", scen); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	reader, err := backend.Open(backend.Options{DataDir: dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reader.Close() }()
	if _, err := reader.Query(context.Background(), "count(perfbase_run_info)", time.Now()); err != nil {
		t.Fatal(err)
	}
	// A report started meanwhile reads too.
	if code, _, stderr := perfbase(t, "runs", "--data-dir", dir); code != 0 {
		t.Fatalf("runs beside a reader: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := perfbase(t, "run", "--listen", "", "--progress", "off", "--data-dir", dir, "--run-id", "second", scen); code != 0 {
		t.Fatalf("a run while a reader has the store open: exit %d\n%s", code, stderr)
	}
	if _, err := reader.Query(context.Background(), "count(perfbase_run_info)", time.Now()); err != nil {
		t.Fatalf("the reader after the run: %v", err)
	}
	code, stdout, stderr := perfbase(t, "runs", "--data-dir", dir, "--format", "json")
	if code != 0 || !strings.Contains(stdout, `"run_id": "second"`) {
		t.Fatalf("runs after: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
