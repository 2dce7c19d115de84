package runrecord_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/exporter"
	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
)

// fedRun drives the exporter's recorder the way the loader does: a
// warm-up minute, then steady minutes with known counts per interface.
type fedRun struct {
	m *exporter.Metrics
	// per interface and steady minute: what was fed
	want map[string][]minuteFeed
}

type minuteFeed struct {
	success, business, system, dropped int
	latency                            time.Duration
}

func newFedRun(t *testing.T) *fedRun {
	t.Helper()
	m, err := exporter.New(exporter.Options{RunID: "run-7", Scenario: "shop", Mode: "open", Shard: "1/2",
		Now: func() time.Time { return runrecord.T0 }})
	if err != nil {
		t.Fatal(err)
	}
	return &fedRun{m: m, want: map[string][]minuteFeed{
		"checkout": {
			{success: 120, business: 3, system: 1, dropped: 0, latency: 18 * time.Millisecond},
			{success: 130, business: 0, system: 4, dropped: 7, latency: 25 * time.Millisecond},
			{success: 0, business: 0, system: 0, dropped: 0},
			{success: 90, business: 1, system: 0, dropped: 2, latency: 40 * time.Millisecond},
		},
		"login": {
			{success: 50, latency: 4 * time.Millisecond},
			{success: 50, latency: 4 * time.Millisecond},
			{success: 50, latency: 4 * time.Millisecond},
			{success: 51, system: 2, latency: 5 * time.Millisecond},
		},
	}}
}

// warmup feeds requests that must not reach the record.
func (f *fedRun) warmup() {
	for name := range f.want {
		r := f.m.Interface(name)
		for range 40 {
			r.Sent(true)
			r.Done(loader.Observation{Outcome: loader.Success, Latency: 900 * time.Millisecond, Warmup: true})
		}
		r.Dropped(true, 11)
	}
}

// minute feeds steady minute k.
func (f *fedRun) minute(k int) {
	for name, feeds := range f.want {
		r := f.m.Interface(name)
		mf := feeds[k]
		for _, o := range []struct {
			n   int
			out loader.Outcome
		}{{mf.success, loader.Success}, {mf.business, loader.BusinessFailure}, {mf.system, loader.SystemFailure}} {
			for range o.n {
				r.Sent(false)
				r.Done(loader.Observation{Outcome: o.out, Latency: mf.latency})
			}
		}
		if mf.dropped > 0 {
			r.Dropped(false, uint64(mf.dropped))
		}
	}
}

// TestBuildFromExporter records observations into the real exporter,
// gathers its registry at each minute and checks the record against the
// exact counts fed.
func TestBuildFromExporter(t *testing.T) {
	t.Parallel()
	f := newFedRun(t)
	f.warmup()
	b, err := runrecord.NewBuilder(runrecord.T0, runrecord.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	gather := func(at time.Time) {
		mfs, err := f.m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		s, err := runrecord.FromFamilies(at, mfs)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	gather(runrecord.T0) // the steady phase starts: nothing counted yet
	for k := range 4 {
		f.minute(k)
		gather(runrecord.T0.Add(time.Duration(k+1) * time.Minute))
	}
	m := runrecord.TestMeta("run-7", "shop", "1/2")
	m.Start = runrecord.T0.Add(-time.Minute)
	rec, err := b.Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFed(t, rec, f.want)
}

func checkFed(t *testing.T, rec runrecord.Record, want map[string][]minuteFeed) {
	t.Helper()
	if len(rec.Interfaces) != len(want) {
		t.Fatalf("%d interfaces, want %d", len(rec.Interfaces), len(want))
	}
	for _, ir := range rec.Interfaces {
		feeds := want[ir.Name]
		var sum minuteFeed
		active := 0.0
		for _, mf := range feeds {
			sum.success += mf.success
			sum.business += mf.business
			sum.system += mf.system
			sum.dropped += mf.dropped
			if mf.success+mf.business+mf.system+mf.dropped > 0 {
				active += 60
			}
		}
		wantCounts := runrecord.Counts{float64(sum.success), float64(sum.business), float64(sum.system)}
		if ir.Requests != wantCounts {
			t.Errorf("%s: requests %+v, fed %+v (warm-up must not count)", ir.Name, ir.Requests, wantCounts)
		}
		if ir.Dropped != float64(sum.dropped) {
			t.Errorf("%s: dropped %g, fed %d", ir.Name, ir.Dropped, sum.dropped)
		}
		if got := ir.Requests.Completed() + ir.Dropped; ir.Scheduled != got {
			t.Errorf("%s: scheduled %g, want success+business+system+dropped = %g", ir.Name, ir.Scheduled, got)
		}
		if inf := ir.Buckets[len(ir.Buckets)-1]; !math.IsInf(inf.UpperBound, 1) || inf.Count != ir.Requests.Completed() {
			t.Errorf("%s: last bucket %+v, want +Inf with every completed request", ir.Name, inf)
		}
		if len(ir.Buckets) != len(c.DurationBuckets())+1 {
			t.Errorf("%s: %d buckets, want every conventions bound and +Inf", ir.Name, len(ir.Buckets))
		}
		if ir.ActiveSeconds != active {
			t.Errorf("%s: active %gs, want %gs", ir.Name, ir.ActiveSeconds, active)
		}
		if len(ir.Windows) != len(feeds) {
			t.Fatalf("%s: %d windows, want %d", ir.Name, len(ir.Windows), len(feeds))
		}
		for k, w := range ir.Windows {
			mf := feeds[k]
			fed := runrecord.Counts{float64(mf.success), float64(mf.business), float64(mf.system)}
			if w.Requests != fed {
				t.Errorf("%s window %d: %+v, fed %+v", ir.Name, k, w.Requests, fed)
			}
			if fed.Completed() == 0 {
				if w.Latency != nil {
					t.Errorf("%s window %d: latency %v without requests", ir.Name, k, w.Latency)
				}
				continue
			}
			// Every request of the minute took mf.latency: each quantile
			// lies in the bucket that holds it.
			lo, hi := runrecord.BucketOf(mf.latency.Seconds())
			for j, v := range w.Latency {
				if v < lo || v > hi {
					t.Errorf("%s window %d: q%g = %g, outside (%g, %g] holding %s", ir.Name, k, runrecord.WindowQuantiles[j], v, lo, hi, mf.latency)
				}
			}
		}
	}
}

// TestBuildFromOldRunSamples stores a run's registry the way a scrape
// does, then builds its record from the raw samples with runrecord.SnapshotQueries
// and FromPromQL: it must equal the record built from the live registry.
func TestBuildFromOldRunSamples(t *testing.T) {
	t.Parallel()
	f := newFedRun(t)
	f.warmup()
	live, err := runrecord.NewBuilder(runrecord.T0, runrecord.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir(), store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	bulk, err := db.NewBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Scrapes every 15 s; counters move at the minute boundaries, just
	// before the scrape taken there.
	for k := 0; k <= 4*4; k++ {
		at := runrecord.T0.Add(time.Duration(k) * 15 * time.Second)
		if k > 0 && k%4 == 0 {
			f.minute(k/4 - 1)
		}
		mfs, err := f.m.RunGatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AppendFamilies(runrecord.NewBulkAppender(ctx, bulk), mfs, labels.EmptyLabels(), at.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if k%4 == 0 {
			s, err := runrecord.FromFamilies(at, mfs)
			if err != nil {
				t.Fatal(err)
			}
			if err := live.Add(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := bulk.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	m := runrecord.TestMeta("run-7", "shop", "1/2")
	want, err := live.Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}

	old, err := runrecord.NewBuilder(runrecord.T0, runrecord.Options{Window: time.Minute, MaxWindows: 60, Planned: 4 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	exprs := runrecord.SnapshotQueries(
		labels.MustNewMatcher(labels.MatchEqual, c.LabelRunID, "run-7"),
		labels.MustNewMatcher(labels.MatchEqual, c.LabelShard, "1/2"),
	)
	end := runrecord.T0.Add(4 * time.Minute)
	for at := old.Next(); ; at = old.Next() {
		if at.After(end) {
			at = end
		}
		var r runrecord.SnapshotResults
		if r.Requests, err = db.Querier().Query(ctx, exprs.Requests, at); err != nil {
			t.Fatal(err)
		}
		if r.Scheduled, err = db.Querier().Query(ctx, exprs.Scheduled, at); err != nil {
			t.Fatal(err)
		}
		if r.Dropped, err = db.Querier().Query(ctx, exprs.Dropped, at); err != nil {
			t.Fatal(err)
		}
		if r.Buckets, err = db.Querier().Query(ctx, exprs.Buckets, at); err != nil {
			t.Fatal(err)
		}
		s, err := runrecord.FromPromQL(at, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Add(s); err != nil {
			t.Fatal(err)
		}
		if !at.Before(end) {
			break
		}
	}
	got, err := old.Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := runrecord.DiffRecords([]runrecord.Record{got}, []runrecord.Record{want}); d != "" {
		t.Errorf("record from raw samples differs from the live one:\n%s", d)
	}
	checkFed(t, got, f.want)
}
