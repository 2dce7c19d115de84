package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// Scraper records a prometheus.Gatherer (a run's registry) into the store
// every interval, with the time of each gather as the samples' timestamp,
// as a Prometheus scrape would. Stop takes a final scrape so the last
// values of a run are never lost.
//
// No staleness markers are written when it stops: an instant query right
// after a run still sees the run's final values (for PromQL's lookback of
// five minutes), which is what `perfbase query` after `perfbase run` wants.
type Scraper struct {
	db       *DB
	g        prometheus.Gatherer
	interval time.Duration
	extra    labels.Labels
	// Now is the scrape clock; tests replace it. Default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	lastT    int64
	scrapes  int
	firstErr error
	errs     int

	cancel context.CancelFunc
	done   chan struct{}
}

// NewScraper returns a scraper of g into db every interval, adding extra
// labels to every series (they override the gathered ones of the same name).
func NewScraper(db *DB, g prometheus.Gatherer, interval time.Duration, extra map[string]string) *Scraper {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &Scraper{db: db, g: g, interval: interval, extra: labels.FromMap(extra), Now: time.Now}
}

// Start scrapes at once and then every interval until ctx ends or Stop is
// called. It does not block.
func (s *Scraper) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			s.record(s.ScrapeOnce(ctx))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends periodic scraping, takes a final scrape and returns the first
// error any scrape met, with how many failed.
func (s *Scraper) Stop() error {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	s.record(s.ScrapeOnce(context.Background()))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstErr != nil {
		return fmt.Errorf("store: %d of %d scrapes failed, first: %w", s.errs, s.scrapes, s.firstErr)
	}
	return nil
}

func (s *Scraper) record(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scrapes++
	if err != nil {
		s.errs++
		if s.firstErr == nil {
			s.firstErr = err
		}
		s.db.opts.Logger.Warn("store: scrape failed", "err", err)
	}
}

// ScrapeOnce gathers once and commits all samples at one timestamp, in
// one transaction: after a crash a scrape is either all there or absent.
func (s *Scraper) ScrapeOnce(ctx context.Context) error {
	mfs, gatherErr := s.g.Gather()
	if gatherErr != nil && len(mfs) == 0 {
		return fmt.Errorf("store: gather: %w", gatherErr)
	}
	s.mu.Lock()
	t := s.Now().UnixMilli()
	if t <= s.lastT {
		t = s.lastT + 1 // the final scrape may land in the same millisecond
	}
	s.lastT = t
	s.mu.Unlock()

	s.db.mu.RLock()
	defer s.db.mu.RUnlock()
	if s.db.closed || s.db.tsdb == nil {
		return errors.New("store: scrape into a closed or read-only store")
	}
	app := s.db.tsdb.Appender(ctx)
	err := AppendFamilies(app, mfs, s.extra, t)
	if err != nil {
		_ = app.Rollback()
		return err
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("store: commit scrape: %w", err)
	}
	if gatherErr != nil {
		return fmt.Errorf("store: gather (partial, stored what was gathered): %w", gatherErr)
	}
	return nil
}

// AppendFamilies appends gathered metric families at timestamp t (ms) the
// way a Prometheus scrape stores them: counters, gauges and untyped as one
// series each; classic histograms as _bucket{le}, _sum and _count;
// summaries as {quantile}, _sum and _count. Native histogram buckets are
// not stored (see docs/store.md).
func AppendFamilies(app storage.Appender, mfs []*dto.MetricFamily, extra labels.Labels, t int64) error {
	b := labels.NewScratchBuilder(16)
	add := func(m *dto.Metric, name, extraName, extraValue string, v float64) error {
		b.Reset()
		b.Add(model.MetricNameLabel, name)
		for _, lp := range m.GetLabel() {
			if extra.Has(lp.GetName()) {
				continue
			}
			b.Add(lp.GetName(), lp.GetValue())
		}
		extra.Range(func(l labels.Label) { b.Add(l.Name, l.Value) })
		if extraName != "" {
			b.Add(extraName, extraValue)
		}
		b.Sort()
		if _, err := app.Append(0, b.Labels(), t, v); err != nil {
			return fmt.Errorf("store: append %s: %w", name, err)
		}
		return nil
	}
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			var err error
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				err = add(m, name, "", "", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				err = add(m, name, "", "", m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				err = add(m, name, "", "", m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				err = appendHistogram(m, name, add)
			case dto.MetricType_SUMMARY:
				err = appendSummary(m, name, add)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

type addFunc func(m *dto.Metric, name, extraName, extraValue string, v float64) error

func appendHistogram(m *dto.Metric, name string, add addFunc) error {
	h := m.GetHistogram()
	bs := h.GetBucket()
	if len(bs) == 0 && len(h.GetPositiveSpan()) > 0 {
		return nil // native-only histogram: nothing classic to store
	}
	bs = append([]*dto.Bucket(nil), bs...)
	sort.Slice(bs, func(i, j int) bool { return bs[i].GetUpperBound() < bs[j].GetUpperBound() })
	sawInf := false
	for _, bk := range bs {
		if math.IsInf(bk.GetUpperBound(), +1) {
			sawInf = true
		}
		if err := add(m, name+"_bucket", labels.BucketLabel, conventions.FormatLe(bk.GetUpperBound()), float64(bk.GetCumulativeCount())); err != nil {
			return err
		}
	}
	if !sawInf {
		if err := add(m, name+"_bucket", labels.BucketLabel, "+Inf", float64(h.GetSampleCount())); err != nil {
			return err
		}
	}
	if err := add(m, name+"_sum", "", "", h.GetSampleSum()); err != nil {
		return err
	}
	return add(m, name+"_count", "", "", float64(h.GetSampleCount()))
}

func appendSummary(m *dto.Metric, name string, add addFunc) error {
	s := m.GetSummary()
	for _, q := range s.GetQuantile() {
		if err := add(m, name, "quantile", conventions.FormatLe(q.GetQuantile()), q.GetValue()); err != nil {
			return err
		}
	}
	if err := add(m, name+"_sum", "", "", s.GetSampleSum()); err != nil {
		return err
	}
	return add(m, name+"_count", "", "", float64(s.GetSampleCount()))
}

// AppendTx runs fn with an appender into the store's head and commits what
// it appended as one transaction, or rolls it back when fn fails: a run's
// record is all there or absent. Samples may be up to the out-of-order
// window old.
func (db *DB) AppendTx(ctx context.Context, fn func(storage.Appender) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed || db.tsdb == nil {
		return errors.New("store: append into a closed or read-only store")
	}
	app := db.tsdb.Appender(ctx)
	if err := fn(app); err != nil {
		return errors.Join(err, app.Rollback())
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
