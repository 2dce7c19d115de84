package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/internal/store"
)

// TestStoreRepair: a block far in the future (what a mistyped import used
// to leave) stops runs from being recorded; `perfbase store list` shows it,
// `store drop --after` deletes it (only with --yes), and runs record again.
func TestStoreRepair(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "st")
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Now().Add(-48 * time.Hour), time.Date(2520, 1, 1, 0, 0, 0, 0, time.UTC)} {
		bulk, err := db.NewBulk(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := bulk.Append(context.Background(), labels.FromStrings("__name__", "x"), at.UnixMilli(), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := bulk.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	target, _, _ := demoTarget(t)
	scen := writeScenario(t, target.URL, twoInterfaces)
	runOK := func() bool {
		code, _, stderr := perfbase(t, "run", "--listen", "", "--progress", "off", "--data-dir", dir, scen)
		t.Logf("run: exit %d, %s", code, lastLine(stderr))
		return code == 0
	}
	code, _, stderr := perfbase(t, "run", "--listen", "", "--progress", "off", "--data-dir", dir, scen)
	if code != 1 || !strings.Contains(stderr, "perfbase store drop --after") {
		t.Fatalf("run on a store with future data: exit %d, no repair hint:\n%s", code, stderr)
	}

	code, stdout, _ := perfbase(t, "store", "list", "--data-dir", dir)
	if code != 0 || strings.Count(stdout, "\n") < 3 || !strings.Contains(stdout, "2520-01-01") || !strings.Contains(stdout, "(in the future)") {
		t.Fatalf("store list: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = perfbase(t, "store", "drop", "--data-dir", dir, "--after", "2100-01-01")
	if code != 0 || !strings.Contains(stdout, "would delete 1 blocks") {
		t.Fatalf("store drop without --yes: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = perfbase(t, "store", "drop", "--data-dir", dir, "--after", "2100-01-01", "--yes")
	if code != 0 || !strings.Contains(stdout, "deleted 1 blocks") {
		t.Fatalf("store drop: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = perfbase(t, "store", "list", "--data-dir", dir)
	if code != 0 || strings.Contains(stdout, "2520") {
		t.Fatalf("store list after drop: exit %d\n%s", code, stdout)
	}
	if !runOK() {
		t.Fatal("a run is not recorded after the repair")
	}
	if code, _, stderr := perfbase(t, "store", "drop", "--data-dir", dir, "--block", "nope", "--yes"); code != 2 || !strings.Contains(stderr, `no block "nope"`) {
		t.Fatalf("unknown block: exit %d %s", code, stderr)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
