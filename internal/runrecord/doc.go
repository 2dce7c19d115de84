// Package runrecord keeps one compact record per pressure-test run, shard
// and interface: the unit users compare. Reports read records instead of
// every scrape of a run, and the records are ordinary time series, so any
// backend that stores Prometheus samples keeps them (the embedded store,
// Prometheus, VictoriaMetrics, Thanos, Mimir) and returns them with PromQL.
//
// # Layout
//
// Names are in internal/conventions (records.go). The number of series
// must not grow with the number of runs, so the bulky series carry no
// run_id: a run-shard writes all its totals at ONE timestamp T, the end of
// the run in milliseconds, and an info series that does carry run_id has a
// sample at the same T to name them. Two runs of one scenario and shard
// never end in the same millisecond. At T, all gauges, steady-phase
// figures (warm-up excluded):
//
//	perfbase_run_record_info{run_id, scenario, shard, shards, mode, status, thresholds}  1
//	perfbase_run_record_start_timestamp_seconds{scenario, shard}         run start, warm-up included
//	perfbase_run_record_steady_start_timestamp_seconds{scenario, shard}  start of the first window
//	perfbase_run_record_requests{scenario, shard, interface, outcome}
//	perfbase_run_record_scheduled{scenario, shard, interface}
//	perfbase_run_record_dropped{scenario, shard, interface}
//	perfbase_run_record_active_seconds{scenario, shard, interface}
//	perfbase_run_record_duration_seconds_bucket{scenario, shard, interface, le}
//
// The buckets are cumulative, every bound of conventions.DurationBuckets
// and +Inf, all outcomes together (the latency the analyzer uses), so
// records of several runs or shards merge by summing per le and
// histogram_quantile works on them. shard is "1/1" for a run not split.
//
// Within-run windows show the variability inside one run, which lets one
// run be compared with one other. Each window writes one sample at its end
// t (steady start < t <= T) into a few series, so W windows add W samples,
// not W series:
//
//	perfbase_run_record_window_requests{scenario, shard, interface, outcome}
//	perfbase_run_record_window_latency_seconds{scenario, shard, interface, quantile}  0.5, 0.9, 0.99
//
// A window without completed requests writes no latency: no NaN is stored.
// Windows last a minute; a steady phase longer than 60 minutes gets longer
// windows, its length / 60 rounded up to a whole minute, so a record holds
// at most 60. A trailing window shorter than half a window joins the one
// before it.
//
// # Producers and readers
//
// Every producer feeds a Builder the same thing: cumulative steady-phase
// Snapshots, at least one per window boundary (Builder.Next), the last at
// the end. FromFamilies makes them from a live run's registry, FromPromQL
// from the raw series of an old run (with the queries of SnapshotQueries);
// an import or the synthetic history builds them from its own counts.
// Build returns the Record, Encode its Samples in the layout above, for a
// TSDB appender or a remote write.
//
// A record is written once, whole, when the run ends (Ctrl-C and guard
// aborts included): the windows are settled only then (a short tail joins
// the window before it, a long unplanned run gets longer windows), so
// window samples written while the run goes would not match the record's,
// and Decode would drop the windows as not adding up. Writing the same
// record twice is harmless: identical samples decode once.
//
// Readers run the expressions of a Query (range selectors, which return
// raw samples at their own timestamps) as instant queries and pass the
// matrices to Decode. Decode groups samples by (scenario, shard, T), names
// each group from its info series, and gives each run the window samples
// inside its steady phase. Windows must add up to the totals; if they do
// not (a run overlapping another of its scenario and shard, windows
// outside the query range) the record is returned without them and the
// error says why. Records read back from Prometheus and the embedded store
// are bit for bit what was written; VictoriaMetrics keeps about 12
// significant digits of a value, exact for counts and times.
//
//	b, err := runrecord.NewBuilder(steadyStart, runrecord.DefaultOptions())
//	for each tick at or after b.Next(), and at the end:
//		s, err := runrecord.FromFamilies(now, families)
//		err = b.Add(s)
//	rec, err := b.Build(meta, activeSeconds)
//	samples, err := runrecord.Encode(rec)
package runrecord
