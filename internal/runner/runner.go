package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/perfbase/perfbase/exporter"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
)

// Result is what a run leaves: its summary and the error of the load
// itself (a guard abort is loader.ErrGuardAborted). The summary's
// Interrupted and Passed say how it ended.
type Result struct {
	Summary *loader.Summary
	// LoadErr is the load's own error; Run's error is about the rest.
	LoadErr error
}

// cleanups is the stack of things to undo, last started first undone.
type cleanups []func() error

func (c *cleanups) push(f func() error) { *c = append(*c, f) }

func (c *cleanups) run() error {
	var errs []error
	for i := len(*c) - 1; i >= 0; i-- {
		errs = append(errs, (*c)[i]())
	}
	*c = nil
	return errors.Join(errs...)
}

// Run drives the load of o.Scenario and everything around it. Its error
// is an *InputError when the run was refused before any load was sent;
// otherwise the Result holds the summary even when the error is not nil
// (a final scrape or push failed). ctx cancelled (Ctrl-C) stops the load;
// the summary, final scrape and push still happen.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	if err := o.validate(); err != nil {
		return nil, inputError(err)
	}
	var undo cleanups
	defer func() { err = errors.Join(err, undo.run()) }()

	metrics, err := exporter.New(exporter.Options{
		RunID: o.RunID, Scenario: o.Scenario.Name, Mode: o.Scenario.Mode, Shard: o.Shard.String(),
		NativeHistograms: o.NativeHistograms,
	})
	if err != nil {
		return nil, inputError(err)
	}
	var pusher *exporter.Pusher
	if o.Push != nil {
		po := *o.Push
		po.RunID, po.Shard = o.RunID, o.Shard.String()
		if pusher, err = exporter.NewPusher(po, metrics.Registry()); err != nil {
			return nil, inputError(err)
		}
	}
	db := o.DB
	if db == nil && o.DataDir != "" {
		if db, err = store.Open(o.DataDir, store.DefaultOptions()); err != nil {
			return nil, inputError(fmt.Errorf("--data-dir: %w", err))
		}
		undo.push(func() error {
			if err := db.Close(); err != nil {
				return fmt.Errorf("close data dir %s: %w", o.DataDir, err)
			}
			return nil
		})
	}
	var srv *exporter.Server
	if o.Listen != "" {
		// Bound before any load, so a port in use costs nothing.
		if srv, err = exporter.Listen(o.Listen, metrics.Registry(), o.Logger); err != nil {
			return nil, inputError(err)
		}
		o.Logger.Info("serving metrics", "address", srv.Addr())
		undo.push(func() error {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}

	s := o.Scenario
	o.Logger.Info("run started", "scenario", s.Name, "run_id", o.RunID, "target", s.RedactedTarget(),
		"mode", s.Mode, "shard", o.Shard.String(), "duration", s.TotalDuration())
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if pusher != nil {
		go pusher.Run(bg, o.Logger)
	}
	var scraper *store.Scraper
	if db != nil {
		scraper = store.NewScraper(db, metrics.RunGatherer(), o.StoreInterval, nil)
		scraper.Start(bg)
	}
	var keeper *recordKeeper
	if db != nil || o.RecordRemote != nil {
		if keeper, err = newRecordKeeper(metrics.RunGatherer(), s, o.Now(), o.RecordWindow); err != nil {
			return nil, err
		}
		go keeper.run(bg)
	}
	sum, loadErr := loader.Run(ctx, s, loader.Options{Recorder: metrics, Shard: o.Shard, Logger: o.Logger, Progress: o.Progress, Quit: o.Quit,
		RunID: o.RunID, Failures: o.Failures})
	if sum == nil {
		stopBG()
		if scraper != nil {
			_ = scraper.Stop() // nothing was sent; the error below says why
		}
		return nil, fmt.Errorf("run %s: %w", o.RunID, loadErr)
	}
	sum.RunID = o.RunID
	sum.Shard = o.Shard.String()
	metrics.Finish(sum)
	stopBG()
	res = &Result{Summary: sum, LoadErr: loadErr}

	// Everything after the load must happen even when it was interrupted:
	// the summary first, then the final scrape and push (the run's record).
	var errs []error
	if o.Summary != nil {
		if err := o.Summary(sum); err != nil {
			errs = append(errs, err)
		}
	}
	if scraper != nil {
		// The final scrape holds the run's end state.
		if err := scraper.Stop(); err != nil {
			errs = append(errs, storeHint(err))
		} else {
			o.Logger.Info("run recorded in the embedded store", "data_dir", db.Dir())
		}
	}
	if keeper != nil {
		if err := o.writeRecord(keeper, sum, db); err != nil {
			errs = append(errs, err)
		}
	}
	if pusher != nil {
		pctx, cancel := context.WithTimeout(context.Background(), o.PushTimeout)
		if err := pusher.Push(pctx); err != nil {
			errs = append(errs, err)
		} else {
			o.Logger.Info("metrics pushed", "kind", o.Push.Kind)
		}
		cancel()
	}
	if srv != nil && o.Linger > 0 {
		o.linger(ctx)
	}
	return res, errors.Join(errs...)
}

// linger keeps /metrics served after the load so that the last scrape
// sees the final state, also after Ctrl-C; o.Quit (a second Ctrl-C) ends
// the wait.
func (o *Options) linger(ctx context.Context) {
	stop := ctx.Done()
	if ctx.Err() != nil {
		stop = nil // already interrupted: only a second Ctrl-C (Quit) ends the wait
		o.Logger.Info("run interrupted; serving metrics until the linger elapses (Ctrl-C again to quit now)", "linger", o.Linger)
	} else {
		o.Logger.Info("run ended; serving metrics until the linger elapses", "linger", o.Linger)
	}
	t := time.NewTimer(o.Linger)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	case <-o.Quit:
	}
}

// writeRecord builds the run's record and writes it where the run's
// metrics went: the embedded store and, when configured, a remote-write
// receiver. A run that never reached its steady phase has none.
func (o *Options) writeRecord(k *recordKeeper, sum *loader.Summary, db *store.DB) error {
	rec, ok, err := k.finish(recordMeta(o, sum))
	if err != nil || !ok {
		if !ok && err == nil {
			o.Logger.Info("no run record: the run ended before its steady phase")
		}
		return err
	}
	samples, err := runrecord.Encode(rec)
	if err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.PushTimeout)
	defer cancel()
	var errs []error
	if db != nil {
		if err := writeRecordStore(ctx, db, samples); err != nil {
			errs = append(errs, storeHint(err))
		}
	}
	if o.RecordRemote != nil {
		if err := writeRecordRemote(ctx, o.RecordRemote, o.RunID, samples); err != nil {
			errs = append(errs, fmt.Errorf("run record to %s: %w", o.RecordRemote.URL, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	o.Logger.Info("run record written", "run_id", o.RunID, "interfaces", len(rec.Interfaces),
		"windows", len(rec.Interfaces[0].Windows), "store", db != nil, "remote", o.RecordRemote != nil)
	return nil
}

// storeHint says what to do when the store refuses a run's samples as too
// old: it holds data far ahead of now (a mistyped import), which the TSDB
// measures the age of new samples from.
func storeHint(err error) error {
	if msg := err.Error(); strings.Contains(msg, "too old sample") || strings.Contains(msg, "out of bounds") {
		return fmt.Errorf("%w (the store holds data far later than now, e.g. from a mistyped import: find it with 'perfbase store list' and delete it with 'perfbase store drop --after DATE')", err)
	}
	return err
}
