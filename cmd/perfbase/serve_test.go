package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestServeBadBaselineIsBadInput(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(path, []byte(`{"version":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := &ServeCmd{Baseline: path, Listen: "127.0.0.1:0"}
	g := &Globals{Stdout: io.Discard, Stderr: io.Discard, Logger: slog.New(slog.DiscardHandler), ctx: t.Context()}
	err := cmd.Run(g)
	var ee *exitError
	if err == nil || !asExit(err, &ee) || ee.code != exitBadInput {
		t.Fatalf("Run = %v, want exit code %d", err, exitBadInput)
	}
}

func asExit(err error, target **exitError) bool {
	return errors.As(err, target)
}
