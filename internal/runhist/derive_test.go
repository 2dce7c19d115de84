package runhist

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/perfbase/perfbase/exporter"
	"github.com/perfbase/perfbase/internal/runrecord"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
)

type bulkApp struct {
	storage.Appender
	ctx context.Context
	b   *store.Bulk
}

func (a bulkApp) Append(_ storage.SeriesRef, ls labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return 0, a.b.Append(a.ctx, ls, t, v)
}

// TestDeriveMissing: a run stored the way perfbase run stored runs before
// records existed (the exporter's registry scraped every 15 s, no record)
// gets its record derived from the raw series, with the steady counts fed
// and windows that add up; a second call derives nothing.
func TestDeriveMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Now().Add(-60 * 24 * time.Hour).Truncate(time.Minute)
	now := t0
	m, err := exporter.New(exporter.Options{RunID: "old-1", Scenario: "shop", Mode: "mixed", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "data"), store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	bulk, err := db.NewBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scrape := func(at time.Time) {
		mfs, err := m.RunGatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AppendFamilies(bulkApp{ctx: ctx, b: bulk}, mfs, labels.EmptyLabels(), at.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	r := m.Interface("checkout")
	const perTick = 25
	for k := 1; k <= 16; k++ { // four minutes of 15 s scrapes
		for range perTick {
			r.Sent(false)
			r.Done(loader.Observation{Outcome: loader.Success, Latency: time.Duration(10+k) * time.Millisecond})
		}
		now = t0.Add(time.Duration(k) * 15 * time.Second)
		if k == 16 {
			m.Finish(&loader.Summary{})
		}
		scrape(now)
	}
	scrape(now.Add(5 * time.Second)) // the final scrape after the end
	if _, err := bulk.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	n, err := DeriveMissing(ctx, db, map[string]bool{}, time.Now(), log)
	if err != nil || n != 1 {
		t.Fatalf("derived %d, %v; want 1", n, err)
	}
	recs := readAll(t, db)
	if len(recs) != 1 || recs[0].Meta.RunID != "old-1" || recs[0].Meta.Scenario != "shop" {
		t.Fatalf("records %+v", recs)
	}
	ir := recs[0].Interfaces[0]
	var inWindows float64
	for _, w := range ir.Windows {
		inWindows += w.Requests.Completed()
	}
	if ir.Requests.Success != 16*perTick || inWindows != ir.Requests.Completed() || len(ir.Windows) < 3 {
		t.Fatalf("derived %g successes in %d windows holding %g; fed %d", ir.Requests.Success, len(ir.Windows), inWindows, 16*perTick)
	}
	if n, err := DeriveMissing(ctx, db, map[string]bool{"old-1": true}, time.Now(), log); err != nil || n != 0 {
		t.Fatalf("second derive: %d, %v", n, err)
	}
}

func readAll(t *testing.T, db *store.DB) []runrecord.Record {
	t.Helper()
	exprs, err := runrecord.Query{Range: 400 * 24 * time.Hour}.Exprs()
	if err != nil {
		t.Fatal(err)
	}
	var ms []model.Matrix
	for _, e := range exprs {
		v, err := db.Querier().Query(context.Background(), e, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, v.(model.Matrix))
	}
	recs, err := runrecord.Decode(ms...)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
