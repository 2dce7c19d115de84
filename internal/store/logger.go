package store

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// warnOnly passes on warnings and errors only: the TSDB logs every WAL
// segment it replays at info level, noise for a command-line tool. It
// also shortens the TSDB's "Overlapping blocks" warning, which lists
// every overlapping block (kilobytes per command on a store with
// overlapping imports, which are expected and merged at query time), to
// one line once per process.
type warnOnly struct {
	slog.Handler
	overlapSaid *atomic.Bool
}

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnOnly) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "Overlapping blocks") {
		if w.overlapSaid.Swap(true) {
			return nil
		}
		short := slog.NewRecord(r.Time, slog.LevelInfo, "store: some blocks overlap in time (imports or records of the same period); queries merge them", r.PC)
		if !w.Handler.Enabled(ctx, slog.LevelInfo) {
			return nil
		}
		return w.Handler.Handle(ctx, short)
	}
	return w.Handler.Handle(ctx, r)
}

func (w warnOnly) WithAttrs(as []slog.Attr) slog.Handler {
	return warnOnly{w.Handler.WithAttrs(as), w.overlapSaid}
}
func (w warnOnly) WithGroup(n string) slog.Handler {
	return warnOnly{w.Handler.WithGroup(n), w.overlapSaid}
}

func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(warnOnly{Handler: l.Handler(), overlapSaid: &atomic.Bool{}})
}
