// Package store is perfbase's embedded metrics store: an on-disk
// Prometheus TSDB in a data dir (default ./perfbase-data), queried with
// the Prometheus PromQL engine, so the very same PromQL runs here and
// against a remote Prometheus-compatible server. It keeps everything by
// default: it is an archive of months of runs.
//
// Three ways in, one way out:
//
//   - a Scraper records a run's prometheus.Gatherer every few seconds with
//     real timestamps, as a Prometheus scrape would, and once more on Stop;
//   - a Bulk writes historical samples (an import) into one new block that
//     joins the store atomically on Commit;
//   - AppendFamilies appends gathered families through any storage.Appender;
//   - db.Querier() answers PromQL with prometheus/common/model values, like
//     the HTTP API client does; backend.Embedded wraps it with typed errors.
//
// A store is opened by one process at a time: a second Open gets an error
// wrapping ErrLocked that names the holder's pid. OpenReadOnly reads a
// store another process is writing.
//
// Every scrape is one transaction in the TSDB's write-ahead log, so a
// process killed with SIGKILL leaves a store that opens again with every
// scrape committed before the kill.
//
//	db, err := store.Open(dir, store.DefaultOptions())
//	if err != nil { ... }
//	defer db.Close()
//	s := store.NewScraper(db, metrics.Registry(), 5*time.Second, nil)
//	s.Start(ctx)
//	... run ...
//	if err := s.Stop(); err != nil { ... } // final scrape
//	v, err := db.Querier().Query(ctx, `sum by (interface, outcome) (perfbase_requests_total)`, time.Now())
package store
