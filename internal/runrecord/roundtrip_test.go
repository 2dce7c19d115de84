package runrecord

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// TestRoundTripThroughStore is the end-to-end check of the layout: records
// encoded, written into the embedded TSDB, read back with the range
// selectors of Query through the PromQL engine, and decoded, come back as
// they were.
func TestRoundTripThroughStore(t *testing.T) {
	t.Parallel()
	day := t0
	// Two shards of one run, a later run of the same scenario right after
	// it, another scenario at the same time, a run ended by the guard with
	// a short steady phase, and one interrupted during warm-up.
	s1 := testMeta("run-1", "checkout", "1/2")
	s2 := testMeta("run-1", "checkout", "2/2")
	s2.Thresholds = c.RecordThresholdsFailed
	later := testMeta("run-2", "checkout", "1/1")
	later.Mode = ""
	other := testMeta("run-3", `search "v2"`, "1/1")
	other.Status = c.RecordStatusGuardAborted
	other.Thresholds = c.RecordThresholdsNone
	// A run that kept failure samples and whose generator was saturated.
	other.FailuresFile = "/var/perfbase/failures run-3.jsonl"
	other.GeneratorSaturated = true
	want := []Record{
		synthRun(t, s1, day, 12*time.Minute+10*time.Second),
		synthRun(t, s2, day.Add(3*time.Millisecond), 12*time.Minute+40*time.Second),
		synthRun(t, other, day.Add(time.Minute), 95*time.Second),
	}
	// The next run starts after the first one's two shards have ended.
	want = append(want, synthRun(t, later, day.Add(20*time.Minute), 70*time.Minute))
	warmupOnly := testMeta("run-4", "checkout", "1/1")
	warmupOnly.Status = c.RecordStatusInterrupted
	warmupOnly.Start = day.Add(2 * time.Hour)
	b, err := NewBuilder(day.Add(2*time.Hour+time.Minute), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := b.Build(warmupOnly, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, rec)
	slices.SortFunc(want, func(a, b Record) int { return a.Meta.End.Compare(b.Meta.End) })

	db := writeSamples(t, encode(t, want...))
	at := day.Add(3 * time.Hour)
	got, err := queryRecords(t, db, Query{Range: 24 * time.Hour}, at)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if d := diffRecords(got, want); d != "" {
		t.Fatalf("records read back differ:\n%s", d)
	}

	// Matchers select the records of one scenario.
	got, err = queryRecords(t, db, Query{Range: 24 * time.Hour, Matchers: []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, c.LabelScenario, `search "v2"`),
	}}, at)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	i := slices.IndexFunc(want, func(r Record) bool { return r.Meta.RunID == "run-3" })
	if d := diffRecords(got, want[i:i+1]); d != "" {
		t.Fatalf("records of one scenario differ:\n%s", d)
	}
}

// TestRecordBucketsWorkWithHistogramQuantile checks that the stored
// buckets serve histogram_quantile as the design promises, summed over the
// shards of a run, and that a one-window record's window quantiles are
// what the server computes from the record's buckets.
func TestRecordBucketsWorkWithHistogramQuantile(t *testing.T) {
	t.Parallel()
	r1 := synthRun(t, testMeta("run-1", "checkout", "1/2"), t0, 50*time.Second)
	r2 := synthRun(t, testMeta("run-1", "checkout", "2/2"), t0, 3*time.Minute)
	db := writeSamples(t, encode(t, r1, r2))
	ctx := context.Background()
	for i, q := range WindowQuantiles {
		expr := fmt.Sprintf(`histogram_quantile(%g, sum by (le) (%s{%s="checkout",%s="1/2"}))`,
			q, c.MetricRecordDurationBucket, c.LabelInterface, c.LabelShard)
		v, err := db.Querier().Query(ctx, expr, r1.Meta.End)
		if err != nil {
			t.Fatal(err)
		}
		server := scalar(t, v)
		w := r1.Interfaces[0].Windows
		if len(w) != 1 || math.Abs(w[0].Latency[i]-server) > 1e-12 {
			t.Errorf("q%g: window latency %v, server %g", q, w, server)
		}
	}
	// Shards merge by summing per le: the server's quantile over both
	// equals Quantile over the summed record buckets.
	end := r2.Meta.End
	v, err := db.Querier().Query(ctx, fmt.Sprintf(
		`histogram_quantile(0.99, sum by (le) (last_over_time(%s{%s="checkout"}[1h])))`, c.MetricRecordDurationBucket, c.LabelInterface), end)
	if err != nil {
		t.Fatal(err)
	}
	sum := slices.Clone(r1.Interfaces[0].Buckets)
	for i := range sum {
		sum[i].Count += r2.Interfaces[0].Buckets[i].Count
	}
	if got, want := scalar(t, v), Quantile(0.99, sum); math.Abs(got-want) > 1e-12 {
		t.Errorf("p99 of both shards: server %g, Quantile %g", got, want)
	}
}

func scalar(t *testing.T, v model.Value) float64 {
	t.Helper()
	vec, ok := v.(model.Vector)
	if !ok || len(vec) != 1 {
		t.Fatalf("result %v, want one sample", v)
	}
	return float64(vec[0].Value)
}

func TestQueryExprs(t *testing.T) {
	t.Parallel()
	q := Query{
		Range:     90 * 24 * time.Hour,
		Matchers:  []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, c.LabelScenario, "checkout")},
		Interface: labels.MustNewMatcher(labels.MatchRegexp, c.LabelInterface, "a|b"),
	}
	got, err := q.Exprs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`perfbase_run_record_info{scenario="checkout"}[90d]`,
		`perfbase_run_record_start_timestamp_seconds{scenario="checkout"}[90d]`,
		`perfbase_run_record_steady_start_timestamp_seconds{scenario="checkout"}[90d]`,
		`perfbase_run_record_requests{scenario="checkout",interface=~"a|b"}[90d]`,
		`perfbase_run_record_scheduled{scenario="checkout",interface=~"a|b"}[90d]`,
		`perfbase_run_record_dropped{scenario="checkout",interface=~"a|b"}[90d]`,
		`perfbase_run_record_active_seconds{scenario="checkout",interface=~"a|b"}[90d]`,
		`perfbase_run_record_duration_seconds_bucket{scenario="checkout",interface=~"a|b"}[90d]`,
		`perfbase_run_record_window_requests{scenario="checkout",interface=~"a|b"}[90d]`,
		`perfbase_run_record_window_latency_seconds{scenario="checkout",interface=~"a|b"}[90d]`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Exprs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e, _ := (Query{Range: time.Hour}).Expr(c.MetricRecordInfo); e != "perfbase_run_record_info[1h]" {
		t.Errorf("Expr without matchers = %s", e)
	}
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"no range", Query{}, "shorter than a millisecond"},
		{"run_id matcher", Query{Range: time.Hour, Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, c.LabelRunID, "r")}},
			`cannot match run_id="r"`},
		{"interface matcher on another label", Query{Range: time.Hour, Interface: labels.MustNewMatcher(labels.MatchEqual, c.LabelScenario, "x")},
			"must match interface"},
	} {
		if _, err := tc.q.Exprs(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := (Query{Range: time.Hour}).Expr("perfbase_requests_total"); err == nil {
		t.Error("Expr of a series that is not a record's: no error")
	}
}
