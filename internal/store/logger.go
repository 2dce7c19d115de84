package store

import (
	"context"
	"log/slog"
)

// warnOnly passes on warnings and errors only: the TSDB logs every WAL
// segment it replays at info level, noise for a command-line tool.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnOnly) WithAttrs(as []slog.Attr) slog.Handler { return warnOnly{w.Handler.WithAttrs(as)} }
func (w warnOnly) WithGroup(n string) slog.Handler       { return warnOnly{w.Handler.WithGroup(n)} }

func quiet(l *slog.Logger) *slog.Logger { return slog.New(warnOnly{l.Handler()}) }
