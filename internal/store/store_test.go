package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/internal/store"
)

func open(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func scalarOf(t *testing.T, v model.Value) float64 {
	t.Helper()
	vec, ok := v.(model.Vector)
	if !ok {
		t.Fatalf("result is %T, want a vector", v)
	}
	if len(vec) != 1 {
		t.Fatalf("result has %d samples, want 1: %v", len(vec), vec)
	}
	return float64(vec[0].Value)
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*store.Options)
		want   string
	}{
		{"negative retention", func(o *store.Options) { o.Retention = -1 }, "Retention"},
		{"negative ooo", func(o *store.Options) { o.OutOfOrderWindow = -1 }, "OutOfOrderWindow"},
		{"no timeout", func(o *store.Options) { o.QueryTimeout = 0 }, "QueryTimeout"},
		{"no lookback", func(o *store.Options) { o.LookbackDelta = 0 }, "LookbackDelta"},
		{"no max samples", func(o *store.Options) { o.MaxSamples = 0 }, "MaxSamples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := store.DefaultOptions()
			tt.mutate(&o)
			_, err := store.Open(t.TempDir(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := open(t, dir)
	_, err := store.Open(dir, store.DefaultOptions())
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("error %q does not name the holder's pid %d", err, os.Getpid())
	}
	// A reader may still look while the writer holds it.
	ro, err := store.OpenReadOnly(dir, store.DefaultOptions())
	if err != nil {
		t.Fatalf("OpenReadOnly while locked: %v", err)
	}
	if _, err := ro.Querier().Query(context.Background(), "vector(1)", time.Now()); err != nil {
		t.Errorf("read-only query: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Errorf("read-only close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestScraperRecordsRegistry(t *testing.T) {
	t.Parallel()
	db := open(t, t.TempDir())
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_requests_total", Help: "h"}, []string{"outcome"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_in_flight", Help: "h"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_duration_seconds", Help: "h", Buckets: []float64{0.1, 1, 10}})
	reg.MustRegister(c, g, h)

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := store.NewScraper(db, reg, time.Hour, map[string]string{"run_id": "r1"})
	s.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := range 3 {
		c.WithLabelValues("success").Add(10)
		g.Set(float64(i))
		h.Observe(0.5)
		if err := s.ScrapeOnce(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(15 * time.Second)
	}
	c.WithLabelValues("success").Add(5) // only the final scrape of Stop sees this
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	q := db.Querier()
	at := now
	tests := []struct {
		expr string
		want float64
	}{
		{`test_requests_total{run_id="r1",outcome="success"}`, 35},
		{`test_in_flight{run_id="r1"}`, 2},
		{`test_duration_seconds_count`, 3},
		{`test_duration_seconds_bucket{le="1.0"}`, 3},
		{`test_duration_seconds_bucket{le="0.1"}`, 0},
		{`test_duration_seconds_bucket{le="+Inf"}`, 3},
		{`test_duration_seconds_sum`, 1.5},
		{`count(test_duration_seconds_bucket)`, 4},
		{`histogram_quantile(0.5, test_duration_seconds_bucket)`, 0.55},
	}
	for _, tt := range tests {
		v, err := q.Query(ctx, tt.expr, at)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := scalarOf(t, v); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
	m, err := q.QueryRange(ctx, `test_requests_total`, now.Add(-45*time.Second), now, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mat := m.(model.Matrix)
	if len(mat) != 1 || len(mat[0].Values) != 4 {
		t.Fatalf("range result = %v, want one series of 4 points", mat)
	}
	if _, err := q.Query(ctx, `sum(`, at); err == nil {
		t.Error("bad PromQL gave no error")
	}
}

func TestBulkCommitAndRollback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := open(t, dir)
	ctx := context.Background()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ls := labels.FromStrings("__name__", "hist_total", "run_id", "old")

	// Rolled back: nothing visible, no staging dir left.
	b, err := db.NewBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(ctx, ls, start.UnixMilli(), 99); err != nil {
		t.Fatal(err)
	}
	if err := b.Rollback(); err != nil {
		t.Fatal(err)
	}

	// Committed: five months, one sample a day.
	b, err = db.NewBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	days := 150
	for d := range days {
		if err := b.Append(ctx, ls, start.AddDate(0, 0, d).UnixMilli(), float64(d)); err != nil {
			t.Fatal(err)
		}
	}
	id, err := b.Commit(ctx)
	if err != nil || id == "" {
		t.Fatalf("Commit = %q, %v", id, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".perfbase-import-") {
			t.Errorf("staging dir %s left behind", e.Name())
		}
	}
	q := db.Querier()
	last := start.AddDate(0, 0, days-1)
	v, err := q.Query(ctx, `hist_total`, last)
	if err != nil {
		t.Fatal(err)
	}
	if got := scalarOf(t, v); got != float64(days-1) {
		t.Errorf("hist_total at last day = %v, want %d", got, days-1)
	}
	v, err = q.Query(ctx, `count_over_time(hist_total[400d])`, last)
	if err != nil {
		t.Fatal(err)
	}
	if got := scalarOf(t, v); got != float64(days) {
		t.Errorf("samples = %v, want %d (the rolled-back one must not be there)", got, days)
	}

	// Still there after reopening.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := open(t, dir)
	v, err = db2.Querier().Query(ctx, `hist_total`, start.AddDate(0, 0, 30))
	if err != nil {
		t.Fatal(err)
	}
	if got := scalarOf(t, v); got != 30 {
		t.Errorf("after reopen hist_total = %v, want 30", got)
	}
}

func TestStaleStagingRemovedOnOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stage := filepath.Join(dir, ".perfbase-import-123")
	if err := os.MkdirAll(filepath.Join(stage, "01ABC"), 0o755); err != nil {
		t.Fatal(err)
	}
	open(t, dir)
	if _, err := os.Stat(stage); !os.IsNotExist(err) {
		t.Fatalf("unfinished import %s still there after Open (stat: %v)", stage, err)
	}
}

const crashChildEnv = "PERFBASE_STORE_CRASH_CHILD_DIR"

// TestCrashChild is not a test of its own: TestCrashSafety runs the test
// binary again with crashChildEnv set, and this scrapes into the store
// until it is killed, printing the counter value after each committed scrape.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "crash_scrapes_total", Help: "h"})
	reg.MustRegister(c)
	s := store.NewScraper(db, reg, time.Hour, nil)
	for i := 1; ; i++ {
		c.Inc()
		if err := s.ScrapeOnce(context.Background()); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Println("committed", i)
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCrashSafety(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	last := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
		if n, ok := strings.CutPrefix(line, "committed "); ok {
			last, _ = strconv.Atoi(n)
			if last >= 50 {
				break
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Scrapes committed after the last line we read count too.
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			last, _ = strconv.Atoi(n)
		}
	}
	_ = cmd.Wait()
	if last < 50 {
		t.Fatalf("child committed only %d scrapes before exiting", last)
	}

	db := open(t, dir) // also proves the kernel dropped the child's lock
	v, err := db.Querier().Query(ctx, `max_over_time(crash_scrapes_total[1h])`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := scalarOf(t, v); got < float64(last) {
		t.Fatalf("after SIGKILL the store has %v scrapes, want at least the %d committed", got, last)
	}
}

// TestReadOnlyConcurrentQueries: a store opened read-only (beside a run
// that holds it) answers concurrent queries; the TSDB's read-only DB
// closed the blocks of one query under another ("block is closing").
func TestReadOnlyConcurrentQueries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := db.NewBulk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-48 * time.Hour).UnixMilli()
	for i := range 200 {
		ls := labels.FromStrings("__name__", "m", "i", strconv.Itoa(i%20))
		if err := bulk.Append(context.Background(), ls, base+int64(i)*60_000, float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bulk.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	ro, err := store.OpenReadOnly(dir, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ro.Close() }()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			if _, err := ro.Querier().Query(context.Background(), "count(count_over_time(m[3d]))", time.Now()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_ = db.Close()
}
