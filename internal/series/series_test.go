package series

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/perfbase/perfbase/exporter"
	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
)

type capture struct {
	storage.Appender
	got map[string]float64
}

func (a capture) Append(_ storage.SeriesRef, ls labels.Labels, _ int64, v float64) (storage.SeriesRef, error) {
	a.got[ls.String()] = v
	return 0, nil
}

// TestSameLayoutAsTheExporter: for the same requests, every sample this
// package writes is a series the live exporter exposes (scraped the way
// the store scrapes it), with the same value.
func TestSameLayoutAsTheExporter(t *testing.T) {
	t.Parallel()
	m, err := exporter.New(exporter.Options{RunID: "r1", Scenario: "s"})
	if err != nil {
		t.Fatal(err)
	}
	obs := []loader.Observation{
		{Outcome: loader.Success, Latency: 12 * time.Millisecond},
		{Outcome: loader.Success, Latency: 80 * time.Millisecond},
		{Outcome: loader.BusinessFailure, Reason: c.ReasonBusinessCode, Latency: 30 * time.Millisecond},
		{Outcome: loader.SystemFailure, Reason: c.ReasonHTTP5xx, Latency: 2 * time.Second},
	}
	rec := m.Interface("checkout")
	bounds := c.DurationBuckets()
	var out Outcomes
	for o := range c.Outcomes {
		out.Buckets[o] = make([]float64, len(bounds)+1)
	}
	failures := map[string]float64{}
	for _, ob := range obs {
		rec.Sent(false)
		rec.Done(ob)
		o := int(ob.Outcome)
		out.Requests[o]++
		out.Sum[o] += ob.Latency.Seconds()
		i := sort.SearchFloat64s(bounds, ob.Latency.Seconds())
		for j := i; j <= len(bounds); j++ {
			out.Buckets[o][j]++
		}
		if ob.Reason != "" {
			failures[ob.Reason]++
		}
	}
	rec.Dropped(false, 2)
	mfs, err := m.RunGatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	live := capture{got: map[string]float64{}}
	if err := store.AppendFamilies(live, mfs, labels.EmptyLabels(), 1); err != nil {
		t.Fatal(err)
	}
	mine := map[string]float64{}
	app := func(ls labels.Labels, _ int64, v float64) error { mine[ls.String()] = v; return nil }
	s := New("r1", "checkout")
	if err := s.AppendOutcomes(app, 1, c.PhaseSteady, &out); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendSchedule(app, 1, c.PhaseSteady, float64(len(obs)+2), 2); err != nil {
		t.Fatal(err)
	}
	for r, v := range failures {
		if err := s.AppendFailure(app, 1, c.PhaseSteady, r, v); err != nil {
			t.Fatal(err)
		}
	}
	if len(mine) < 3*(len(bounds)+4) {
		t.Fatalf("only %d series written", len(mine))
	}
	for ls, v := range mine {
		lv, ok := live.got[ls]
		if !ok {
			t.Errorf("%s is not a series the exporter exposes", ls)
			continue
		}
		if math.Abs(lv-v) > 1e-9 {
			t.Errorf("%s = %g, the exporter says %g", ls, v, lv)
		}
	}
}
