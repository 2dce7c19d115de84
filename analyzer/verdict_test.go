package analyzer

import (
	"testing"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// period builds a period whose daily latency p99 values are p99s, with
// throughput thr and the given counts.
func period(p99s []float64, thr float64, success, bizFail, sysFail float64, buckets []float64) *BaselineInterface {
	bi := &BaselineInterface{Name: "x", Metrics: map[string]float64{}, Daily: map[string][]float64{},
		Counts: &Counts{Success: success, BusinessFailure: bizFail, SystemFailure: sysFail}, Buckets: buckets}
	bi.Metrics[c.BaselineLatencyP99] = median(p99s)
	bi.Daily[c.BaselineLatencyP99] = p99s
	bi.Metrics[c.BaselineThroughput] = thr
	thrs := make([]float64, len(p99s))
	for i := range thrs {
		thrs[i] = thr * (1 + 0.01*float64(i%3))
	}
	bi.Daily[c.BaselineThroughput] = thrs
	var v [numMetrics]float64
	ratios(&v, *bi.Counts)
	bi.Metrics[c.BaselineSystemSuccess], bi.Metrics[c.BaselineBusinessSuccess] = v[mSystem], v[mBusiness]
	return bi
}

func days(level float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = level * (1 + 0.02*float64(i%5-2))
	}
	return out
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	layout := []float64{0.1, 0.2, 0.5}
	base := period(days(0.2, 60), 100, 99000, 900, 100, layout)
	tests := []struct {
		name   string
		cur    *BaselineInterface
		metric string
		want   string
	}{
		{"slower p99", period(days(0.26, 25), 100, 9900, 90, 10, layout), c.BaselineLatencyP99, VerdictRegressed},
		{"faster p99", period(days(0.15, 25), 100, 9900, 90, 10, layout), c.BaselineLatencyP99, VerdictImproved},
		{"significant but under tolerance", period(days(0.21, 25), 100, 9900, 90, 10, layout), c.BaselineLatencyP99, VerdictStable},
		{"too few days", period(days(0.3, 3), 100, 9900, 90, 10, layout), c.BaselineLatencyP99, VerdictInsufficient},
		{"load doubled and more", period(days(0.3, 25), 250, 9900, 90, 10, layout), c.BaselineLatencyP99, VerdictNotComparable},
		{"load doubled: throughput itself judged", period(days(0.3, 25), 250, 9900, 90, 10, layout), c.BaselineThroughput, VerdictImproved},
		{"other buckets", period(days(0.3, 25), 100, 9900, 90, 10, []float64{0.1, 0.25, 0.5}), c.BaselineLatencyP99, VerdictNotComparable},
		{"other buckets: success still judged", period(days(0.3, 25), 100, 9500, 400, 100, []float64{0.1, 0.25, 0.5}), c.BaselineBusinessSuccess, VerdictRegressed},
		{"system dip", period(days(0.2, 25), 100, 9800, 90, 110, layout), c.BaselineSystemSuccess, VerdictRegressed},
		{"too few requests", period(days(0.2, 25), 100, 40, 5, 5, layout), c.BaselineSystemSuccess, VerdictInsufficient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &Baseline{Interfaces: []BaselineInterface{*base}}
			rs := verdicts(b, map[string]*BaselineInterface{"x": tc.cur}, []string{"x"}, DefaultOptions())[0]
			for _, r := range rs {
				if c.BaselineMetrics[r.metric] == tc.metric && r.Verdict != tc.want {
					t.Fatalf("%s: %s, want %s (%s)", tc.metric, r.Verdict, tc.want, summary([]*MetricResult{r}))
				}
			}
		})
	}
	// an interface new this month, and one gone
	b := &Baseline{Interfaces: []BaselineInterface{*base}}
	rs := verdicts(b, map[string]*BaselineInterface{"y": base}, []string{"x", "y"}, DefaultOptions())
	if overall(rs[0]) != VerdictInsufficient || overall(rs[1]) != VerdictInsufficient || rs[1][0].Reason != "no baseline data" {
		t.Fatalf("missing periods: %s / %s", summary(rs[0]), summary(rs[1]))
	}
}
