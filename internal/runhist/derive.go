package runhist

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
)

// deriveLookback is how far back old runs are looked for: the store's
// out-of-order window, past which nothing older is expected to change.
const deriveLookback = 400 * 24 * time.Hour

// DeriveMissing gives the runs of the embedded store that have raw series
// but no record (stored before records existed) their record, derived
// from the raw series once and written back, so that reports compare
// them as runs and never derive them again. known lists the run ids that
// have records. It returns how many records it wrote.
func DeriveMissing(ctx context.Context, db *store.DB, known map[string]bool, now time.Time, log *slog.Logger) (int, error) {
	q := db.Querier()
	old, err := runrecord.FindOldRuns(ctx, q, now, deriveLookback)
	if err != nil {
		return 0, err
	}
	var todo []runrecord.OldRun
	for _, r := range old {
		if !known[r.RunID] {
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	log.Info("deriving the records of runs stored before run records existed (once)", "runs", len(todo))
	recs := make([]runrecord.Record, 0, len(todo))
	for i, r := range todo {
		rec, err := runrecord.Derive(ctx, q, r)
		if err != nil {
			log.Warn("run left without a record", "run_id", r.RunID, "shard", r.Shard, "err", err)
			continue
		}
		if len(rec.Interfaces) == 0 {
			continue
		}
		recs = append(recs, rec)
		if (i+1)%20 == 0 {
			log.Info("deriving run records", "done", i+1, "of", len(todo))
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	if _, err := Write(ctx, db, recs); err != nil {
		return 0, fmt.Errorf("could not write derived run records: %w", err)
	}
	return len(recs), nil
}
