package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/backend"
	"github.com/perfbase/perfbase/internal/runhist"
	"github.com/perfbase/perfbase/internal/store"
)

// deriveOldRuns gives runs of the embedded store in dir that predate run
// records their record, once, before a command reads runs. It holds the
// store's lock only while it does; when a run or import holds it, or the
// store does not exist, it does nothing (old runs keep the daily method
// until next time). A failure is logged: the command goes on without them.
func deriveOldRuns(ctx context.Context, g *Globals, dir string) {
	if dir == "" {
		dir = store.DefaultDir
	}
	if _, err := os.Stat(dir); err != nil {
		return
	}
	so := store.DefaultOptions()
	so.Logger = g.Logger
	db, err := store.Open(dir, so)
	if errors.Is(err, store.ErrLocked) {
		return
	}
	if err != nil {
		g.Logger.Warn("could not open the store to derive old runs' records", "err", err)
		return
	}
	defer func() {
		if err := db.Close(); err != nil {
			g.Logger.Warn("could not close the store after deriving old runs' records", "err", err)
		}
	}()
	now := time.Now()
	runs, err := analyzer.ListRuns(ctx, backend.Embedded(db), analyzer.RunQuery{From: now.Add(-400 * 24 * time.Hour), To: now.Add(time.Minute)})
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
