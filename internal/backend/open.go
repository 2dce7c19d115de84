package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/internal/store"
)

// Store is the embedded store behind a Backend opened on one, when it may
// be written (not opened read-only beside a running perfbase run).
func Store(b Backend) (*store.DB, bool) {
	e, ok := b.(*embeddedBackend)
	if !ok || e.db.ReadOnly() {
		return nil, false
	}
	return e.db, true
}

// Backend is a Querier that must be closed.
type Backend interface {
	Querier
	// Name says where queries run, without credentials.
	Name() string
	Close() error
}

// Options choose a backend: a remote server when URL is set, the embedded
// store in DataDir otherwise.
type Options struct {
	// URL of a Prometheus-compatible server; "" means the embedded store.
	URL string
	// HTTPConfigFile is a prometheus/common HTTP client config (YAML:
	// basic_auth, authorization, oauth2, tls_config, proxy_url...).
	HTTPConfigFile string
	// DataDir of the embedded store; default store.DefaultDir.
	DataDir string
	// Timeout bounds each query. Default 2m.
	Timeout time.Duration
	// Logger for the embedded store. Default: discard.
	Logger *slog.Logger
	// ReadOnly opens the embedded store without its lock, as a reader: a
	// perfbase run or import may start meanwhile. Writers leave it false.
	ReadOnly bool
}

// Open returns the backend Options select. The embedded store must exist;
// with ReadOnly, or when another process (a running `perfbase run`) holds
// it, it is opened read-only and sees the data written up to now.
func Open(o Options) (Backend, error) {
	if o.URL != "" {
		ro := RemoteOptions{URL: o.URL, Timeout: o.Timeout, HTTP: config.DefaultHTTPClientConfig}
		if o.HTTPConfigFile != "" {
			cfg, _, err := config.LoadHTTPConfigFile(o.HTTPConfigFile)
			if err != nil {
				return nil, fmt.Errorf("backend: could not load HTTP client config %s: %w", o.HTTPConfigFile, err)
			}
			ro.HTTP = *cfg
		}
		return NewRemote(ro)
	}
	if o.HTTPConfigFile != "" {
		return nil, errors.New("backend: an HTTP client config needs a URL; the embedded store has no HTTP")
	}
	dir := o.DataDir
	if dir == "" {
		dir = store.DefaultDir
	}
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("backend: no perfbase data in %s (run or import first, or give the data dir or a server URL): %w", dir, err)
		}
		return nil, fmt.Errorf("backend: %w", err)
	}
	so := store.DefaultOptions()
	if o.Timeout > 0 {
		so.QueryTimeout = o.Timeout
	}
	so.Logger = o.Logger
	var db *store.DB
	var err error
	if o.ReadOnly {
		db, err = store.OpenReadOnly(dir, so)
	} else {
		db, err = store.Open(dir, so)
		if errors.Is(err, store.ErrLocked) {
			db, err = store.OpenReadOnly(dir, so)
		}
	}
	if err != nil {
		return nil, err
	}
	return &embeddedBackend{Querier: Embedded(db), db: db}, nil
}
