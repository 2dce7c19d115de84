package analyzer

import (
	"encoding/json"
	"math"
	"strconv"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Verdicts, per metric and per interface.
const (
	VerdictRegressed     = "regressed"
	VerdictImproved      = "improved"
	VerdictStable        = "stable"
	VerdictInsufficient  = "insufficient_data"
	VerdictNotComparable = "not_comparable"
)

// Statistical tests named in MetricResult.Test.
const (
	StatMannWhitney   = "mann_whitney_u"
	StatTwoProportion = "two_proportion_z"
)

// verdictMetrics are the metrics that get a verdict, in report order.
var verdictMetrics = []int{mP50, mP90, mP95, mP99, mBusiness, mSystem, mThroughput}

// Num is a float64 that encodes NaN (not computable) as JSON null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 6, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*n = Num(f)
	return err
}

// MetricResult is the verdict on one metric of one interface, with the
// numbers behind it.
type MetricResult struct {
	Baseline Num `json:"baseline"`
	Current  Num `json:"current"`
	// Change is relative (current/baseline - 1) for latency and
	// throughput, absolute (current - baseline) for ratios.
	Change  Num    `json:"change"`
	Verdict string `json:"verdict"`
	// PValue is the test's two-sided p-value; QValue the same after the
	// Benjamini-Hochberg adjustment across the whole report. A verdict of
	// regressed or improved needs QValue < FDR and |Change| > tolerance.
	PValue Num    `json:"p_value"`
	QValue Num    `json:"q_value"`
	Test   string `json:"test,omitempty"`
	// NBaseline and NCurrent are the sample sizes: days for rank tests,
	// requests for proportion tests, runs for comparisons of runs.
	NBaseline float64 `json:"n_baseline"`
	NCurrent  float64 `json:"n_current"`
	Reason    string  `json:"reason,omitempty"`
	// Evidence says how a comparison of runs was reached (nil for days).
	Evidence *RunEvidence `json:"evidence,omitempty"`

	metric int
}

func nan() Num { return Num(math.NaN()) }

// compare computes one interface's metric results before the FDR step.
func compare(base, cur *BaselineInterface, o Options) []*MetricResult {
	out := make([]*MetricResult, 0, len(verdictMetrics))
	loadOK, bucketsOK := true, true
	var loadReason string
	if base != nil && cur != nil {
		bt, ok1 := base.Metrics[c.BaselineThroughput]
		ct, ok2 := cur.Metrics[c.BaselineThroughput]
		if ok1 && ok2 && bt > 0 {
			if r := ct / bt; r > o.LoadRatio || r < 1/o.LoadRatio {
				loadOK = false
				loadReason = "load level differs: throughput " + strconv.FormatFloat(r, 'f', 2, 64) + "x the baseline's"
			}
		}
		bucketsOK = sameBuckets(base.Buckets, cur.Buckets)
	}
	for _, m := range verdictMetrics {
		key := c.BaselineMetrics[m]
		r := &MetricResult{metric: m, Baseline: nan(), Current: nan(), Change: nan(), PValue: nan(), QValue: nan()}
		out = append(out, r)
		if base != nil {
			if v, ok := base.Metrics[key]; ok {
				r.Baseline = Num(v)
			}
		}
		if cur != nil {
			if v, ok := cur.Metrics[key]; ok {
				r.Current = Num(v)
			}
		}
		bv, cv := float64(r.Baseline), float64(r.Current)
		isRatio := m == mBusiness || m == mSystem
		if !math.IsNaN(bv) && !math.IsNaN(cv) {
			if isRatio {
				r.Change = Num(cv - bv)
			} else if bv > 0 {
				r.Change = Num(cv/bv - 1)
			}
		}
		switch {
		case base == nil:
			r.Verdict, r.Reason = VerdictInsufficient, "no baseline data"
			continue
		case cur == nil:
			r.Verdict, r.Reason = VerdictInsufficient, "no data this period"
			continue
		case m != mThroughput && !loadOK:
			r.Verdict, r.Reason = VerdictNotComparable, loadReason
			continue
		case m <= mP99 && !bucketsOK:
			r.Verdict, r.Reason = VerdictNotComparable, "latency bucket layouts differ"
			continue
		case math.IsNaN(bv) || math.IsNaN(cv):
			r.Verdict, r.Reason = VerdictInsufficient, "metric absent in one period"
			continue
		}
		if isRatio {
			r.Test = StatTwoProportion
			var k1, n1, k2, n2 float64
			if m == mSystem {
				k1, n1, k2, n2 = base.Counts.SystemOK(), base.Counts.Completed(), cur.Counts.SystemOK(), cur.Counts.Completed()
			} else {
				k1, n1, k2, n2 = base.Counts.Success, base.Counts.SystemOK(), cur.Counts.Success, cur.Counts.SystemOK()
			}
			r.NBaseline, r.NCurrent = math.Round(n1), math.Round(n2)
			if n1 < o.MinRequests || n2 < o.MinRequests {
				r.Verdict, r.Reason = VerdictInsufficient, "too few requests"
				continue
			}
			phi := math.Max(dispersion(base.Daily[key], n1), dispersion(cur.Daily[key], n2))
			r.PValue = Num(twoProportion(k1, n1, k2, n2, phi))
			continue
		}
		r.Test = StatMannWhitney
		bd, cd := base.Daily[key], cur.Daily[key]
		r.NBaseline, r.NCurrent = float64(len(bd)), float64(len(cd))
		if len(bd) < o.MinDays || len(cd) < o.MinDays {
			r.Verdict, r.Reason = VerdictInsufficient, "too few days with data"
			continue
		}
		r.PValue = Num(mannWhitney(bd, cd))
	}
	return out
}

// decide turns adjusted p-values and magnitudes into verdicts.
func decide(r *MetricResult, o Options) {
	if r.Verdict != "" {
		return
	}
	q, ch := float64(r.QValue), float64(r.Change)
	tol := o.LatencyTolerance
	worse := ch > 0
	switch r.metric {
	case mBusiness, mSystem:
		tol, worse = o.SuccessTolerance, ch < 0
	case mThroughput:
		tol, worse = o.ThroughputTolerance, ch < 0
	}
	switch {
	case math.IsNaN(q) || math.IsNaN(ch):
		r.Verdict = VerdictInsufficient
	case q < o.FDR && math.Abs(ch) > tol && worse:
		r.Verdict = VerdictRegressed
	case q < o.FDR && math.Abs(ch) > tol:
		r.Verdict = VerdictImproved
	default:
		r.Verdict = VerdictStable
	}
}

// overall is an interface's verdict: regressed if any metric regressed,
// then not_comparable, improved, stable, insufficient_data in that order.
func overall(rs []*MetricResult) string {
	rank := map[string]int{VerdictRegressed: 5, VerdictNotComparable: 4, VerdictImproved: 3, VerdictStable: 2, VerdictInsufficient: 1}
	best := VerdictInsufficient
	for _, r := range rs {
		if rank[r.Verdict] > rank[best] {
			best = r.Verdict
		}
	}
	return best
}

func sameBuckets(a, b []float64) bool {
	if len(a) == 0 || len(b) == 0 {
		return true // unknown layout: nothing says they differ
	}
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9*math.Max(1, math.Abs(a[i])) {
			return false
		}
	}
	return true
}
