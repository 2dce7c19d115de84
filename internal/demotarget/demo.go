package demotarget

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/synth"
	"github.com/perfbase/perfbase/internal/store"
)

// demoMarker marks a data dir as the demo's own, so that the demo only
// ever wipes what it wrote.
const demoMarker = ".perfbase-demo"

// History is nightly 10-minute runs of the demo interfaces, from
// `months` months before the report month until the start of today;
// recharge is 35% slower from the report month on.
func History(report analyzer.Month, months int, now time.Time) synth.Config {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	at := report.Start(time.UTC)
	return synth.Config{
		Start: report.Add(-months).Start(time.UTC), End: today, Seed: 2026,
		Weekly: 0.15, MissingDays: 0.03, RunDuration: 10 * time.Minute, Interval: 30 * time.Second,
		Interfaces: []synth.Interface{
			{Name: "query_balance", RPS: 60, Median: 9 * time.Millisecond, Sigma: 0.35, BusinessFailure: 0.005, SystemFailure: 0.001},
			{Name: "query_bill", RPS: 40, Median: 16 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.01, SystemFailure: 0.001},
			{Name: "recharge", RPS: 20, Median: 26 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.02, SystemFailure: 0.002,
				Changes: []synth.Change{{Kind: synth.LatencyStep, At: at, Size: 0.35}}},
		},
	}
}

// WriteHistory writes cfg into db as one block and returns the samples written.
func WriteHistory(ctx context.Context, db *store.DB, cfg synth.Config) (int, error) {
	bulk, err := db.NewBulk(ctx)
	if err != nil {
		return 0, err
	}
	if err := cfg.Generate(func(ls labels.Labels, t int64, v float64) error { return bulk.Append(ctx, ls, t, v) }); err != nil {
		return 0, errors.Join(err, bulk.Rollback())
	}
	n := bulk.Samples()
	if _, err := bulk.Commit(ctx); err != nil {
		return 0, err
	}
	return n, nil
}

// ResetDir empties dir if the demo made it, creates it if absent, and
// refuses anything else: the demo never deletes data it did not write.
func ResetDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("data dir: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return fmt.Errorf("%s is not empty and was not made by perfbase demo; choose another directory", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("could not reset the demo store: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by perfbase demo; deleted and recreated by every demo\n"), 0o644)
}

// Start serves the demo service on a free loopback port. stop
// reports a failure of the server too: the live run's figures are only
// the demo service's if it served them.
func Start() (url string, stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo target: %w", err)
	}
	srv := &http.Server{Handler: New(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if err != nil {
			return fmt.Errorf("demo target: %w", err)
		}
		return nil
	}, nil
}
