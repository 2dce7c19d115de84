package loader

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/perfbase/perfbase/loader/scenario"
)

// Summary is the end-of-run result, written as a table and, with
// --summary-json, as JSON. Its field names are a stable interface.
type Summary struct {
	Scenario     string             `json:"scenario"`
	RunID        string             `json:"run_id,omitempty"`
	Mode         string             `json:"mode"`
	Shard        string             `json:"shard,omitempty"`
	Start        time.Time          `json:"start"`
	End          time.Time          `json:"end"`
	Duration     float64            `json:"duration_seconds"`
	Interrupted  bool               `json:"interrupted"`
	GuardAborted bool               `json:"guard_aborted"`
	Passed       bool               `json:"passed"`
	Interfaces   []InterfaceSummary `json:"interfaces"`
	// Generator is the load generator's own health: when Saturated, the
	// latencies above include its queueing, not the target's alone.
	Generator GeneratorSummary `json:"generator"`
	// Setup and Teardown are the steps' results, in order; a failed step
	// ends its list. TeardownFailed makes the run fail.
	Setup          []StepResult `json:"setup,omitempty"`
	Teardown       []StepResult `json:"teardown,omitempty"`
	TeardownFailed bool         `json:"teardown_failed,omitempty"`
	// FailuresFile is where samples of failed requests were written.
	FailuresFile string `json:"failures_file,omitempty"`
}

// InterfaceSummary is one interface's result. Counts cover every phase,
// so they add up with the exported counters; latencies and ratios cover
// the steady (non-warm-up) phase, or every phase when there was none.
// Latency quantiles are of successful requests.
type InterfaceSummary struct {
	Name            string  `json:"name"`
	Scheduled       uint64  `json:"scheduled"`
	Success         uint64  `json:"success"`
	BusinessFailure uint64  `json:"business_failure"`
	SystemFailure   uint64  `json:"system_failure"`
	Dropped         uint64  `json:"dropped"`
	Warmup          uint64  `json:"warmup_scheduled"`
	AchievedRPS     float64 `json:"achieved_rps"`
	LatencyP50      float64 `json:"latency_p50_seconds"`
	LatencyP90      float64 `json:"latency_p90_seconds"`
	LatencyP95      float64 `json:"latency_p95_seconds"`
	LatencyP99      float64 `json:"latency_p99_seconds"`
	LatencyMax      float64 `json:"latency_max_seconds"`
	// SystemSuccessRatio is (success + business_failure) / completed.
	SystemSuccessRatio float64 `json:"system_success_ratio"`
	// BusinessSuccessRatio is success / (success + business_failure): the
	// business verdict is only meaningful on system successes.
	BusinessSuccessRatio float64 `json:"business_success_ratio"`
	DroppedRatio         float64 `json:"dropped_ratio"`
	// DataExhausted names the data set whose rows ran out and ended this
	// interface's load (on_exhausted: stop).
	DataExhausted string            `json:"data_exhausted,omitempty"`
	Thresholds    []ThresholdResult `json:"thresholds"`
	Passed        bool              `json:"passed"`
}

// ThresholdResult is one checked threshold.
type ThresholdResult struct {
	Name     string  `json:"name"` // p99, business_success, ...
	Limit    float64 `json:"limit"`
	Actual   float64 `json:"actual"`
	Passed   bool    `json:"passed"`
	Operator string  `json:"operator"` // "<=" or ">="
}

func ratio(num, den uint64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

func (e *engine) summary(start, end time.Time, cpu time.Duration) *Summary {
	sum := &Summary{
		Scenario: e.s.Name, Mode: e.s.Mode, Shard: e.opts.Shard.String(),
		Start: start, End: end, Duration: end.Sub(start).Seconds(), Passed: true,
	}
	for _, name := range e.order {
		st := e.stats[name]
		all := st.allCounts()
		steady := st.counts(1)
		var h histSnapshot
		st.latency[1].snapshot(&h)
		measured := steady
		if steady.Sent+steady.Dropped == 0 {
			measured = all
			var w histSnapshot
			st.latency[0].snapshot(&w)
			h.add(&w)
		}
		is := InterfaceSummary{
			Name:            name,
			Scheduled:       all.Sent + all.Dropped,
			Success:         all.Outcomes[Success],
			BusinessFailure: all.Outcomes[BusinessFailure],
			SystemFailure:   all.Outcomes[SystemFailure],
			Dropped:         all.Dropped,
			Warmup:          st.sent[0].Load() + st.dropped[0].Load(),
			LatencyP50:      h.quantile(0.50).Seconds(),
			LatencyP90:      h.quantile(0.90).Seconds(),
			LatencyP95:      h.quantile(0.95).Seconds(),
			LatencyP99:      h.quantile(0.99).Seconds(),
			LatencyMax:      h.max.Seconds(),
		}
		if d := time.Duration(st.active.Load()).Seconds(); d > 0 {
			is.AchievedRPS = float64(all.completed()) / d
		}
		sysOK := measured.Outcomes[Success] + measured.Outcomes[BusinessFailure]
		is.SystemSuccessRatio = ratio(sysOK, measured.completed())
		is.BusinessSuccessRatio = ratio(measured.Outcomes[Success], sysOK)
		is.DroppedRatio = ratio(measured.Dropped, measured.Sent+measured.Dropped)
		if v, ok := e.exhaustedBy.Load(name); ok {
			is.DataExhausted, _ = v.(string)
		}
		is.Thresholds, is.Passed = checkThresholds(e.s, name, &is)
		if !is.Passed {
			sum.Passed = false
		}
		sum.Interfaces = append(sum.Interfaces, is)
	}
	if e.guardAborted.Load() {
		sum.Passed = false
	}
	var arrivals [2]uint64
	var completed uint64
	for _, st := range e.stats {
		for p := range arrivals {
			c := st.counts(p)
			arrivals[p] += c.Sent + c.Dropped
			completed += c.completed()
		}
	}
	sum.Generator = e.gen.summary(arrivals, completed, cpu)
	return sum
}

// checkThresholds applies the interface's thresholds, those under "*"
// included, in name order.
func checkThresholds(s *scenario.Scenario, name string, is *InterfaceSummary) ([]ThresholdResult, bool) {
	th := s.ThresholdsFor(name)
	var out []ThresholdResult
	add := func(n string, limit, actual float64, upper bool) {
		r := ThresholdResult{Name: n, Limit: limit, Actual: actual, Operator: ">="}
		if upper {
			r.Operator = "<="
			r.Passed = actual <= limit
		} else {
			r.Passed = actual >= limit
		}
		out = append(out, r)
	}
	for _, q := range []struct {
		n string
		d scenario.Duration
		v float64
	}{{"p50", th.P50, is.LatencyP50}, {"p90", th.P90, is.LatencyP90}, {"p95", th.P95, is.LatencyP95}, {"p99", th.P99, is.LatencyP99}} {
		if q.d > 0 {
			add(q.n, q.d.D().Seconds(), q.v, true)
		}
	}
	if th.BusinessSuccess > 0 {
		add("business_success", th.BusinessSuccess, is.BusinessSuccessRatio, false)
	}
	if th.SystemSuccess > 0 {
		add("system_success", th.SystemSuccess, is.SystemSuccessRatio, false)
	}
	if th.MaxDropped != nil {
		add("max_dropped", *th.MaxDropped, is.DroppedRatio, true)
	}
	slices.SortFunc(out, func(a, b ThresholdResult) int { return strings.Compare(a.Name, b.Name) })
	passed := true
	for _, r := range out {
		passed = passed && r.Passed
	}
	return out, passed
}

// WriteJSON writes the summary as indented JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteTable writes the per-interface summary table.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "interface\tscheduled\tsuccess\tbiz fail\tsys fail\tdropped\trps\tp50\tp90\tp99\tmax\tsystem ok\tbusiness ok\tthresholds\t")
	for _, i := range s.Interfaces {
		verdict := "pass"
		if !i.Passed {
			var failed []string
			for _, t := range i.Thresholds {
				if !t.Passed {
					failed = append(failed, t.Name)
				}
			}
			verdict = "FAIL " + strings.Join(failed, ",")
		} else if len(i.Thresholds) == 0 {
			verdict = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			i.Name, i.Scheduled, i.Success, i.BusinessFailure, i.SystemFailure, i.Dropped, i.AchievedRPS,
			fmtSeconds(i.LatencyP50), fmtSeconds(i.LatencyP90), fmtSeconds(i.LatencyP99), fmtSeconds(i.LatencyMax),
			fmtPercent(i.SystemSuccessRatio), fmtPercent(i.BusinessSuccessRatio), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	status := "PASSED"
	switch {
	case s.GuardAborted:
		status = "ABORTED by the guard"
	case !s.Passed:
		status = "FAILED"
	}
	extra := ""
	if s.Interrupted {
		extra = " (interrupted)"
	}
	for _, i := range s.Interfaces {
		if i.DataExhausted != "" {
			fmt.Fprintf(w, "\n%s: data set %s used up (on_exhausted: stop): its load ended early\n", i.Name, i.DataExhausted)
		}
	}
	for _, st := range slices.Concat(s.Setup, s.Teardown) {
		if !st.OK {
			fmt.Fprintf(w, "\nstep %s (%s) FAILED: %s\n", st.Name, st.Kind, st.Error)
		}
	}
	if n := len(s.Setup) + len(s.Teardown); n > 0 {
		fmt.Fprintf(w, "set-up: %s; teardown: %s\n", stepsVerdict(s.Setup), stepsVerdict(s.Teardown))
	}
	if s.FailuresFile != "" {
		fmt.Fprintf(w, "failure samples: %s\n", s.FailuresFile)
	}
	g := s.Generator
	fmt.Fprintf(w, "\ngenerator: lag p50 %s p99 %s, peak %d workers, %s CPU per request\n",
		fmtSeconds(g.LagP50), fmtSeconds(g.LagP99), g.PeakWorkers, fmtSeconds(g.CPUPerRequest))
	if g.Saturated {
		fmt.Fprintf(w, "WARNING: the load generator, not the target, limited this run (%d s judged saturated): %s.\n"+
			"Its latencies are not the target's alone; give it more CPU or split the load over shards.\n",
			g.SaturatedSeconds, g.SaturatedReason)
	}
	_, err := fmt.Fprintf(w, "\n%s: %s in %s%s\n", s.Scenario, status, time.Duration(s.Duration*float64(time.Second)).Round(time.Millisecond), extra)
	return err
}

func stepsVerdict(rs []StepResult) string {
	if len(rs) == 0 {
		return "-"
	}
	ok := 0
	for _, r := range rs {
		if r.OK {
			ok++
		}
	}
	return fmt.Sprintf("%d/%d ok", ok, len(rs))
}

func fmtSeconds(s float64) string {
	if s == 0 {
		return "-"
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

func fmtPercent(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*r)
}
