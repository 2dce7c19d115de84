package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// stagePrefix names the directories bulk writes stage their block in,
// inside the data dir so that committing is one rename on one filesystem.
// Leftovers of a crashed import are removed when the store opens.
const stagePrefix = ".perfbase-import-"

// commitEvery bounds the samples an appender holds before it commits into
// the block writer's in-memory head.
const commitEvery = 100_000

// Bulk writes historical samples, e.g. an imported run, into one new block
// that joins the store on Commit, all at once: until then nothing of it is
// visible, and after a crash nothing of it remains. Samples of a series
// must be appended in time order. A Bulk is not safe for concurrent use.
//
// Its memory grows with the samples it holds (about 1-2 bytes each,
// compressed, plus the series' labels); callers keep a run's samples to
// what one block should hold.
type Bulk struct {
	db      *DB
	stage   string
	w       *tsdb.BlockWriter
	app     storage.Appender
	pending int
	samples int
	done    bool
}

// NewBulk starts a bulk write into db.
func (db *DB) NewBulk(ctx context.Context) (*Bulk, error) {
	if db.readOnly != nil {
		return nil, errors.New("store: bulk write into a read-only store")
	}
	stage, err := os.MkdirTemp(db.dir, stagePrefix)
	if err != nil {
		return nil, fmt.Errorf("store: could not create staging dir for bulk write: %w", err)
	}
	// One block for the whole write, whatever its span: the head's
	// appendable window is half the block size, and samples may be years old.
	const blockSize = int64(100 * 365 * 24 * time.Hour / time.Millisecond)
	w, err := tsdb.NewBlockWriter(db.opts.Logger, stage, blockSize)
	if err != nil {
		return nil, fmt.Errorf("store: could not start block writer: %w", errors.Join(err, os.RemoveAll(stage)))
	}
	return &Bulk{db: db, stage: stage, w: w, app: w.Appender(ctx)}, nil
}

// Append adds one float sample at t (ms since the epoch).
func (b *Bulk) Append(ctx context.Context, ls labels.Labels, t int64, v float64) error {
	if b.done {
		return errors.New("store: append to a finished bulk write")
	}
	if _, err := b.app.Append(0, ls, t, v); err != nil {
		return fmt.Errorf("store: bulk append %s at %s: %w", ls, time.UnixMilli(t).UTC().Format(time.RFC3339), err)
	}
	b.samples++
	b.pending++
	if b.pending >= commitEvery {
		if err := b.app.Commit(); err != nil {
			return fmt.Errorf("store: bulk commit to block writer: %w", err)
		}
		b.app = b.w.Appender(ctx)
		b.pending = 0
	}
	return nil
}

// Samples is the number of samples appended so far.
func (b *Bulk) Samples() int { return b.samples }

// Commit writes the block and adds it to the store. On error nothing was
// added. It returns the new block's directory name, "" when nothing was
// appended.
func (b *Bulk) Commit(ctx context.Context) (string, error) {
	if b.done {
		return "", errors.New("store: bulk write already finished")
	}
	b.done = true
	defer func() {
		// Not an error of Commit, whose block is in or not as it says: a
		// stage left behind is removed when the store next opens.
		if err := b.cleanup(); err != nil {
			b.db.opts.Logger.Warn("store: could not clean up after a bulk write", "dir", b.stage, "err", err)
		}
	}()
	if err := b.app.Commit(); err != nil {
		return "", fmt.Errorf("store: bulk commit to block writer: %w", err)
	}
	if b.samples == 0 {
		return "", nil
	}
	id, err := b.w.Flush(ctx)
	if err != nil {
		return "", fmt.Errorf("store: could not write block: %w", err)
	}
	name := id.String()
	b.db.mu.Lock()
	defer b.db.mu.Unlock()
	if b.db.closed {
		return "", errors.New("store: closed during bulk write; nothing was added")
	}
	// Close, move the block in with one atomic rename, reopen: the TSDB
	// loads blocks at open, and has no exported way to reload them.
	if err := b.db.tsdb.Close(); err != nil {
		return "", fmt.Errorf("store: could not close TSDB to add block: %w", err)
	}
	renameErr := os.Rename(filepath.Join(b.stage, name), filepath.Join(b.db.dir, name))
	if err := b.db.openTSDB(); err != nil {
		b.db.closed = true
		return "", errors.Join(renameErr, fmt.Errorf("store: could not reopen TSDB after adding block: %w", err))
	}
	if renameErr != nil {
		return "", fmt.Errorf("store: could not move block into the store; nothing was added: %w", renameErr)
	}
	return name, nil
}

// Rollback abandons the bulk write; nothing of it reaches the store.
func (b *Bulk) Rollback() error {
	if b.done {
		return nil
	}
	b.done = true
	_ = b.app.Rollback()
	return b.cleanup()
}

func (b *Bulk) cleanup() error {
	err := b.w.Close()
	if rerr := os.RemoveAll(b.stage); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// removeStaleStages deletes staging dirs of bulk writes that never committed.
func removeStaleStages(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), stagePrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
