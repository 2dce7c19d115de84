package runrecord

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/store"
)

// t0 is a steady start on a whole minute, in UTC.
var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// state accumulates the cumulative state of a synthetic run, request by
// request, so tests know the exact counts they fed.
type state map[string]InterfaceSnapshot

// observe counts n completed requests of one outcome and latency.
func (s state) observe(iface, outcome string, latency float64, n float64) {
	is := s[iface]
	*is.Requests.ptr(outcome) += n
	is.Scheduled += n
	if is.Buckets == nil {
		is.Buckets = zeroBuckets()
	} else {
		is.Buckets = slices.Clone(is.Buckets)
	}
	for i := range is.Buckets {
		if latency <= is.Buckets[i].UpperBound {
			is.Buckets[i].Count += n
		}
	}
	s[iface] = is
}

// drop counts n scheduled requests never sent.
func (s state) drop(iface string, n float64) {
	is := s[iface]
	is.Scheduled += n
	is.Dropped += n
	s[iface] = is
}

func (s state) snap(t time.Time) Snapshot {
	out := Snapshot{Time: t, Interfaces: map[string]InterfaceSnapshot{}}
	for k, v := range s {
		v.Buckets = slices.Clone(v.Buckets)
		out.Interfaces[k] = v
	}
	return out
}

func testMeta(runID, scenario, shard string) Meta {
	_, n, err := ParseShard(shard)
	if err != nil {
		panic(err)
	}
	return Meta{RunID: runID, Scenario: scenario, Shard: shard, Shards: n, Mode: "open",
		Status: c.RecordStatusCompleted, Thresholds: c.RecordThresholdsPassed}
}

// synthRun builds the record of a run whose steady phase starts at start
// and lasts d, fed one snapshot a minute and one at the end, with two
// interfaces whose latency grows minute by minute.
func synthRun(t testing.TB, m Meta, start time.Time, d time.Duration) Record {
	t.Helper()
	b, err := NewBuilder(start, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := state{}
	end := start.Add(d)
	for at, k := start.Add(time.Minute), 1; ; at, k = at.Add(time.Minute), k+1 {
		if at.After(end) {
			at = end
		}
		s.observe("checkout", c.OutcomeSuccess, 0.010*float64(k), float64(50+k))
		s.observe("checkout", c.OutcomeBusinessFailure, 0.2, 2)
		s.observe("checkout", c.OutcomeSystemFailure, 30, float64(k%2))
		s.drop("checkout", float64(k%3))
		s.observe("login", c.OutcomeSuccess, 0.003, 20)
		if err := b.Add(s.snap(at)); err != nil {
			t.Fatal(err)
		}
		if !at.Before(end) {
			break
		}
	}
	if m.Start.IsZero() {
		m.Start = start.Add(-30 * time.Second)
	}
	rec, err := b.Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// bulkAppender lets store.AppendFamilies write through a Bulk; it only
// calls Append.
type bulkAppender struct {
	storage.Appender
	ctx context.Context
	b   *store.Bulk
}

func (a bulkAppender) Append(_ storage.SeriesRef, ls labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return 0, a.b.Append(a.ctx, ls, t, v)
}

// writeSamples writes samples into a new embedded store, each series in
// time order as a TSDB wants, and returns the store.
func writeSamples(t *testing.T, samples []Sample) *store.DB {
	t.Helper()
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
	sorted := slices.Clone(samples)
	slices.SortStableFunc(sorted, func(a, b Sample) int {
		return cmp.Or(labels.Compare(a.Labels, b.Labels), cmp.Compare(a.T, b.T))
	})
	for _, s := range sorted {
		if err := bulk.Append(ctx, s.Labels, s.T, s.V); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bulk.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// queryRecords runs a Query's expressions on db at `at` and decodes them.
func queryRecords(t *testing.T, db *store.DB, q Query, at time.Time) ([]Record, error) {
	t.Helper()
	exprs, err := q.Exprs()
	if err != nil {
		t.Fatal(err)
	}
	var mats []model.Matrix
	for _, e := range exprs {
		v, err := db.Querier().Query(context.Background(), e, at)
		if err != nil {
			t.Fatalf("query %s: %v", e, err)
		}
		mat, ok := v.(model.Matrix)
		if !ok {
			t.Fatalf("query %s returned %s, want a matrix", e, v.Type())
		}
		mats = append(mats, mat)
	}
	return Decode(mats...)
}

// toMatrix turns samples into the matrix a range selector returns.
func toMatrix(samples []Sample) model.Matrix {
	idx := map[string]*model.SampleStream{}
	var out model.Matrix
	for _, s := range samples {
		k := s.Labels.String()
		ss := idx[k]
		if ss == nil {
			m := model.Metric{}
			s.Labels.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
			ss = &model.SampleStream{Metric: m}
			idx[k] = ss
			out = append(out, ss)
		}
		ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.Time(s.T), Value: model.SampleValue(s.V)})
	}
	for _, ss := range out {
		slices.SortFunc(ss.Values, func(a, b model.SamplePair) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	}
	return out
}

func encode(t testing.TB, recs ...Record) []Sample {
	t.Helper()
	var out []Sample
	for _, r := range recs {
		s, err := Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s...)
	}
	return out
}

// diffRecords describes the first differences between two record lists.
func diffRecords(got, want []Record) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	var b strings.Builder
	if len(got) != len(want) {
		fmt.Fprintf(&b, "%d records, want %d\n", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !reflect.DeepEqual(g.Meta, w.Meta) {
			fmt.Fprintf(&b, "record %d meta:\n got %+v\nwant %+v\n", i, g.Meta, w.Meta)
		}
		if len(g.Interfaces) != len(w.Interfaces) {
			fmt.Fprintf(&b, "record %d: %d interfaces, want %d\n", i, len(g.Interfaces), len(w.Interfaces))
			continue
		}
		for j := range g.Interfaces {
			gi, wi := g.Interfaces[j], w.Interfaces[j]
			if !reflect.DeepEqual(gi.Windows, wi.Windows) {
				fmt.Fprintf(&b, "record %d interface %s windows:\n got %+v\nwant %+v\n", i, wi.Name, gi.Windows, wi.Windows)
			}
			gi.Windows, wi.Windows = nil, nil
			if !reflect.DeepEqual(gi, wi) {
				fmt.Fprintf(&b, "record %d interface:\n got %+v\nwant %+v\n", i, gi, wi)
			}
		}
	}
	return b.String()
}

// bucketOf returns the bounds (lower, upper] of the conventions bucket
// holding v.
func bucketOf(v float64) (lo, hi float64) {
	lo = 0
	for _, ub := range append(c.DurationBuckets(), math.Inf(1)) {
		if v <= ub {
			return lo, ub
		}
		lo = ub
	}
	return lo, math.Inf(1)
}
