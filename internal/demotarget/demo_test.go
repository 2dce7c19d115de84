package demotarget

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResetDir: the demo empties only a directory it made, creates an
// absent one, and refuses anybody else's data.
func TestResetDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "demo")
	if err := ResetDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ResetDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old")); !os.IsNotExist(err) {
		t.Fatalf("the demo's own dir was not emptied: %v", err)
	}
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "archive"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ResetDir(foreign); err == nil || !strings.Contains(err.Error(), "not made by perfbase demo") {
		t.Fatalf("foreign dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(foreign, "archive")); err != nil {
		t.Fatalf("foreign data touched: %v", err)
	}
}
