package main

import (
	"context"
	"time"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/backend"
	"github.com/perfbase/perfbase/internal/runhist"
)

// deriveOldRuns gives runs of the embedded store that predate run records
// their record, once, before a command reads runs. On a remote backend,
// or a store another process holds, nothing is written and old runs keep
// the daily method. A failure is logged: the command goes on without them.
func deriveOldRuns(ctx context.Context, g *Globals, be backend.Backend) {
	db, ok := backend.Store(be)
	if !ok {
		return
	}
	now := time.Now()
	runs, err := analyzer.ListRuns(ctx, be, analyzer.RunQuery{From: now.Add(-400 * 24 * time.Hour), To: now.Add(time.Minute)})
	if err != nil {
		g.Logger.Warn("could not list run records; old runs not derived", "err", err)
		return
	}
	known := map[string]bool{}
	for _, r := range runs {
		known[r.RunID] = true
	}
	n, err := runhist.DeriveMissing(ctx, db, known, now, g.Logger)
	if err != nil {
		g.Logger.Warn("could not derive the records of old runs", "err", err)
		return
	}
	if n > 0 {
		g.Logger.Info("derived and stored the records of old runs", "records", n)
	}
}
