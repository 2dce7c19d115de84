package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// DefaultDir is where perfbase keeps its data when no --data-dir is given.
const DefaultDir = "perfbase-data"

// lockFileName is perfbase's own lock, taken before the TSDB's, so that a
// second process gets an error naming the process that holds the store.
const lockFileName = "perfbase.lock"

// Errors returned by Open.
var (
	// ErrLocked is returned when another process has the store open.
	ErrLocked = errors.New("store: data dir is in use by another perfbase process")
)

// Options configure the store. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	// Retention is how long samples are kept, counted from the newest one.
	// 0 keeps everything: the store is an archive of months of runs.
	Retention time.Duration
	// OutOfOrderWindow accepts appends older than the newest sample by up
	// to this much, e.g. a run recorded while an older one is imported.
	OutOfOrderWindow time.Duration
	// Logger receives the TSDB's own logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives the TSDB's and the query engine's metrics. Default: none.
	Registerer prometheus.Registerer
	// QueryTimeout bounds one PromQL evaluation.
	QueryTimeout time.Duration
	// LookbackDelta is PromQL's staleness window, as in Prometheus.
	LookbackDelta time.Duration
	// MaxSamples bounds the samples one query may load into memory.
	MaxSamples int
}

// DefaultOptions returns the options perfbase uses: unlimited retention,
// a 400-day out-of-order window and Prometheus' query defaults.
func DefaultOptions() Options {
	return Options{
		Retention:        0,
		OutOfOrderWindow: 400 * 24 * time.Hour,
		QueryTimeout:     2 * time.Minute,
		LookbackDelta:    5 * time.Minute,
		MaxSamples:       50_000_000,
	}
}

func (o Options) validate() error {
	var errs []error
	if o.Retention < 0 {
		errs = append(errs, errors.New("store: Retention must not be negative"))
	}
	if o.OutOfOrderWindow < 0 {
		errs = append(errs, errors.New("store: OutOfOrderWindow must not be negative"))
	}
	if o.QueryTimeout <= 0 {
		errs = append(errs, errors.New("store: QueryTimeout must be positive"))
	}
	if o.LookbackDelta <= 0 {
		errs = append(errs, errors.New("store: LookbackDelta must be positive"))
	}
	if o.MaxSamples <= 0 {
		errs = append(errs, errors.New("store: MaxSamples must be positive"))
	}
	return errors.Join(errs...)
}

// DB is an open store. It is safe for concurrent use.
type DB struct {
	dir    string
	opts   Options
	engine *queryEngine

	// mu guards tsdb: bulk commits close and reopen it to load new blocks.
	mu sync.RWMutex
	// roMu serialises queries of a read-only store: the TSDB's read-only
	// DB reloads its blocks for every querier and closes the previous
	// ones, so concurrent queries failed with "block is closing".
	roMu     sync.Mutex
	tsdb     *tsdb.DB
	readOnly *tsdb.DBReadOnly
	lock     *os.File
	closed   bool
	reopened bool
}

// Open opens the store in dir, creating it if needed. Only one process may
// have a store open for writing: a second one gets an error wrapping
// ErrLocked (see OpenReadOnly for reading a store another process writes).
func Open(dir string, opts Options) (*DB, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = promslog.NewNopLogger()
	}
	opts.Logger = quiet(opts.Logger)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: could not create data dir: %w", err)
	}
	lock, err := acquireLock(dir)
	if err != nil {
		return nil, err
	}
	if err := removeStaleStages(dir); err != nil {
		releaseLock(lock)
		return nil, fmt.Errorf("store: could not remove an unfinished import: %w", err)
	}
	db := &DB{dir: dir, opts: opts, lock: lock, engine: newQueryEngine(opts)}
	if err := db.openTSDB(); err != nil {
		releaseLock(lock)
		return nil, err
	}
	return db, nil
}

// OpenReadOnly opens a store for queries only, without taking its lock, so
// that a store being written by a running `perfbase run` can be read. It
// sees the data written up to the moment it is opened.
func OpenReadOnly(dir string, opts Options) (*DB, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = promslog.NewNopLogger()
	}
	opts.Logger = quiet(opts.Logger)
	ro, err := tsdb.OpenDBReadOnly(dir, "", opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("store: could not open %s read-only: %w", dir, err)
	}
	return &DB{dir: dir, opts: opts, readOnly: ro, engine: newQueryEngine(opts)}, nil
}

func (db *DB) openTSDB() error {
	to := tsdb.DefaultOptions()
	to.RetentionDuration = db.opts.Retention.Milliseconds()
	to.OutOfOrderTimeWindow = db.opts.OutOfOrderWindow.Milliseconds()
	// The TSDB registers its metrics once; a reopen after a bulk commit
	// would otherwise fail as a duplicate registration.
	reg := db.opts.Registerer
	if db.reopened {
		reg = nil
	}
	db.reopened = true
	t, err := tsdb.Open(db.dir, db.opts.Logger, reg, to, nil)
	if err != nil {
		return fmt.Errorf("store: could not open TSDB in %s: %w", db.dir, err)
	}
	db.tsdb = t
	return nil
}

// Dir is the store's directory.
func (db *DB) Dir() string { return db.dir }

// Close flushes nothing that is not already durable (every commit is in the
// write-ahead log) and releases the store.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	var errs []error
	if db.tsdb != nil {
		if err := db.tsdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close TSDB: %w", err))
		}
	}
	if db.readOnly != nil {
		if err := db.readOnly.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close read-only TSDB: %w", err))
		}
	}
	if db.lock != nil {
		releaseLock(db.lock)
	}
	return errors.Join(errs...)
}

// queryable returns what the query engine reads. Callers hold db.mu.RLock.
func (db *DB) queryable() (storage.Queryable, error) {
	if db.closed {
		return nil, errors.New("store: closed")
	}
	if db.readOnly != nil {
		return db.readOnly, nil
	}
	return db.tsdb, nil
}

// acquireLock takes an exclusive, non-blocking flock on dir/perfbase.lock
// and writes our pid into it. The kernel drops the lock when the process
// dies, so a SIGKILLed run never leaves a stale lock behind.
func acquireLock(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: could not open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := "unknown pid"
		if b, rerr := io.ReadAll(io.LimitReader(f, 32)); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "pid " + strconv.Itoa(pid)
			}
		}
		_ = f.Close() // not ours: the lock error is the one to report
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s holds %s); stop it, or use another --data-dir", ErrLocked, holder, path)
		}
		return nil, fmt.Errorf("store: could not lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func releaseLock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}

// ReadOnly reports whether the store was opened read-only (another
// process holds it): nothing can be written.
func (db *DB) ReadOnly() bool { return db.readOnly != nil }
