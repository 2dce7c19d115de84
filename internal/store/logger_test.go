package store

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestOverlapWarningShortAndOnce: the TSDB's multi-kilobyte overlapping
// blocks warning becomes one short line, once; other warnings pass.
func TestOverlapWarningShortAndOnce(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := quiet(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	detail := strings.Repeat("<ulid: 01M8YGCBJBBTVJFS6FBFZ7R5AK, mint: 1, maxt: 2>", 100)
	l.Warn("Overlapping blocks found during reloadBlocks", "detail", detail)
	l.Warn("Overlapping blocks found during reloadBlocks", "detail", detail)
	l.Info("replaying WAL segment")
	l.Warn("something else")
	out := buf.String()
	if strings.Count(out, "overlap") != 1 || strings.Contains(out, "ulid") || strings.Contains(out, "WAL") || !strings.Contains(out, "something else") {
		t.Fatalf("log:\n%s", out)
	}
}
