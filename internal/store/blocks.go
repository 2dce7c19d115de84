package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// BlockInfo describes one block of the store: a span of time written
// together (a compacted part of the head, or one import).
type BlockInfo struct {
	ID               string
	MinTime, MaxTime time.Time
	Samples, Series  uint64
}

// Blocks lists the store's blocks, oldest first. The head (the last
// hours of live writes) is not a block.
func (db *DB) Blocks() ([]BlockInfo, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed || db.tsdb == nil {
		return nil, errors.New("store: blocks of a closed or read-only store")
	}
	var out []BlockInfo
	for _, b := range db.tsdb.Blocks() {
		m := b.Meta()
		out = append(out, BlockInfo{ID: m.ULID.String(), MinTime: time.UnixMilli(m.MinTime).UTC(),
			MaxTime: time.UnixMilli(m.MaxTime).UTC(), Samples: m.Stats.NumSamples, Series: m.Stats.NumSeries})
	}
	slices.SortFunc(out, func(a, b BlockInfo) int { return a.MinTime.Compare(b.MinTime) })
	return out, nil
}

// DropBlocks deletes the named blocks, all or none: an unknown id is an
// error before anything is removed. The TSDB is closed while the block
// directories go and reopened after.
func (db *DB) DropBlocks(ids []string) error {
	blocks, err := db.Blocks()
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, b := range blocks {
		known[b.ID] = true
	}
	for _, id := range ids {
		if !known[id] {
			return fmt.Errorf("store: no block %q in %s", id, db.dir)
		}
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.tsdb.Close(); err != nil {
		return fmt.Errorf("store: could not close TSDB to drop blocks: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := os.RemoveAll(filepath.Join(db.dir, id)); err != nil {
			errs = append(errs, fmt.Errorf("store: could not remove block %s: %w", id, err))
		}
	}
	if err := db.openTSDB(); err != nil {
		db.closed = true
		errs = append(errs, fmt.Errorf("store: could not reopen TSDB after dropping blocks: %w", err))
	}
	return errors.Join(errs...)
}
