// Package render writes perfbase reports as a terminal table (optionally
// coloured), markdown, JSON or a self-contained HTML page with SVG charts.
// It only presents an analyzer.Report; every figure and verdict comes from
// the analyzer.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/perfbase/perfbase/analyzer"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Format is a report output format.
type Format string

// analyzer.Report formats.
const (
	FormatTable    Format = "table"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
	FormatHTML     Format = "html"
)

// Formats lists the formats for flags and help.
var Formats = []Format{FormatTable, FormatMarkdown, FormatJSON, FormatHTML}

// Options tune rendering.
type Options struct {
	// Color adds ANSI colours to the table (for terminals).
	Color bool
}

// tableMetrics are the metrics shown in table and markdown reports.
var tableMetrics = []string{
	c.BaselineLatencyP50, c.BaselineLatencyP90, c.BaselineLatencyP99,
	c.BaselineBusinessSuccess, c.BaselineSystemSuccess, c.BaselineThroughput,
}

// Render writes the report in format f.
func Render(w io.Writer, r *analyzer.Report, f Format, o Options) error {
	switch f {
	case FormatTable:
		return renderTable(r, w, o)
	case FormatMarkdown:
		return renderMarkdown(r, w)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatHTML:
		return renderHTML(r, w)
	}
	return fmt.Errorf("unknown report format %q (want table, markdown, json or html)", f)
}

func title(r *analyzer.Report) string {
	if r.Run != nil {
		return fmt.Sprintf("perfbase report run %s (scenario %s, %s) against baseline %s [%s]: %s",
			r.Run.RunID, r.Run.Scenario, r.Run.Start.In(location(r)).Format("2006-01-02 15:04 MST"),
			r.Baseline.String(), r.Baseline.Kind, strings.ToUpper(r.Verdict))
	}
	return fmt.Sprintf("perfbase report %s (%s) against baseline %s [%s]: %s",
		r.Month, r.Timezone, r.Baseline.String(), r.Baseline.Kind, strings.ToUpper(r.Verdict))
}

func location(r *analyzer.Report) *time.Location {
	if loc, err := time.LoadLocation(r.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// unitLine says what one observation was, for reports over runs (the
// reports over days keep the layout they always had), and what a reader
// of the run must know: where its failure samples are, and whether its
// load generator, or a baseline run's, was saturated.
func unitLine(r *analyzer.Report) string {
	if r.Unit != analyzer.UnitRuns {
		return ""
	}
	line := "Unit: runs. " + r.UnitReason + "."
	if r.Run != nil && r.Run.GeneratorSaturated {
		line += " WARNING: the load generator was saturated in run " + r.Run.RunID + ": its latencies include the generator's own queueing."
	}
	if len(r.SaturatedBaselines) > 0 {
		line += " WARNING: the load generator was saturated in baseline run(s) " + strings.Join(r.SaturatedBaselines, ", ") + "."
	}
	if r.Run != nil && len(r.Run.FailuresFiles) > 0 {
		line += " Failure samples: " + strings.Join(r.Run.FailuresFiles, ", ") + "."
	}
	return line
}

// Evidence describes how a comparison of runs reached its verdict, in one
// line: the test, its statistic, the runs and windows on each side and
// the spreads; "" for a result without evidence (days).
func Evidence(m *analyzer.MetricResult) string {
	e := m.Evidence
	if e == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", m.Test)
	if s := float64(e.Statistic); !math.IsNaN(s) {
		fmt.Fprintf(&b, " %.2f", s)
		if df := float64(e.DF); !math.IsNaN(df) {
			fmt.Fprintf(&b, " (df %.1f)", df)
		}
	}
	fmt.Fprintf(&b, ", p %s; %d vs %d runs, %d vs %d windows", formatP(m.PValue), e.BaselineRuns, e.CurrentRuns, e.BaselineWindows, e.CurrentWindows)
	if v := float64(e.WithinRunSD); !math.IsNaN(v) {
		fmt.Fprintf(&b, ", within-run sd %.3g", v)
	}
	if v := float64(e.BetweenRunSD); !math.IsNaN(v) {
		fmt.Fprintf(&b, ", between-run sd %.3g", v)
	}
	if v := float64(e.Autocorrelation); !math.IsNaN(v) {
		fmt.Fprintf(&b, ", window autocorrelation %.2f", v)
	}
	if m.Reason != "" {
		fmt.Fprintf(&b, "; %s", m.Reason)
	}
	return b.String()
}

// writeEvidence lists the evidence of every metric that has one.
func writeEvidence(w io.Writer, r *analyzer.Report, bullet string) {
	header := false
	for _, in := range r.Interfaces {
		for _, key := range tableMetrics {
			m := in.Metrics[key]
			if m == nil || m.Evidence == nil {
				continue
			}
			if !header {
				fmt.Fprintf(w, "\nEvidence (%s):\n", m.Evidence.Unit)
				if bullet != "" {
					fmt.Fprintln(w)
				}
				header = true
			}
			fmt.Fprintf(w, "%s%s %s %s: %s\n", bullet, in.Name, key, m.Verdict, Evidence(m))
		}
	}
}

const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

func colorFor(v string) string {
	switch v {
	case analyzer.VerdictRegressed:
		return ansiRed + ansiBold
	case analyzer.VerdictImproved:
		return ansiGreen
	case analyzer.VerdictNotComparable:
		return ansiYellow
	case analyzer.VerdictInsufficient:
		return ansiDim
	}
	return ""
}

func renderTable(r *analyzer.Report, w io.Writer, o Options) error {
	paint := func(v string) string {
		if !o.Color || colorFor(v) == "" {
			return v
		}
		return colorFor(v) + v + ansiReset
	}
	fmt.Fprintln(w, title(r))
	if u := unitLine(r); u != "" {
		fmt.Fprintln(w, u)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INTERFACE\tMETRIC\tTREND\tBASELINE\tCURRENT\tCHANGE\tP(ADJ)\tVERDICT")
	for _, in := range r.Interfaces {
		for i, key := range tableMetrics {
			m := in.Metrics[key]
			name := ""
			if i == 0 {
				name = in.Name
			}
			// the verdict is last so its colour codes do not upset alignment
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, key, sparkline(in.Trend, key),
				Value(key, m.Baseline), Value(key, m.Current), Change(key, m.Change),
				formatP(m.QValue), paint(m.Verdict))
		}
		fmt.Fprintf(tw, "\t=> %s\t\t\t\t\t\t%s\n", in.Name, paint(in.Verdict))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeChangePoints(w, r, "")
	writeTrends(w, r, "")
	writeEvidence(w, r, "")
	return nil
}

func writeChangePoints(w io.Writer, r *analyzer.Report, bullet string) {
	header := false
	for _, in := range r.Interfaces {
		for _, cp := range in.ChangePoints {
			if !header {
				fmt.Fprintf(w, "\nChange points (daily series, %s):\n", r.Timezone)
				if bullet != "" {
					fmt.Fprintln(w)
				}
				header = true
			}
			fmt.Fprintf(w, "%s%s %s %s: %s -> %s (%s)\n", bullet, cp.Date, in.Name, cp.Metric,
				Value(cp.Metric, analyzer.Num(cp.Before)), Value(cp.Metric, analyzer.Num(cp.After)), Change(cp.Metric, analyzer.Num(cp.Change)))
		}
	}
}

// describeTrend is a trend in one line: its span, levels, change and pace.
func describeTrend(tr analyzer.Trend) string {
	span := tr.Start + " to " + tr.End
	if tr.Ongoing {
		span = "since " + tr.Start + " (ongoing)"
	}
	return fmt.Sprintf("%s %s: %s -> %s (%s, %s per 30 days)", span, tr.Metric,
		Value(tr.Metric, analyzer.Num(tr.Before)), Value(tr.Metric, analyzer.Num(tr.After)),
		Change(tr.Metric, analyzer.Num(tr.Change)), Change(tr.Metric, analyzer.Num(tr.SlopePer30d)))
}

func writeTrends(w io.Writer, r *analyzer.Report, bullet string) {
	header := false
	for _, in := range r.Interfaces {
		for _, tr := range in.Trends {
			if !header {
				fmt.Fprintf(w, "\nTrends (daily series, %s):\n", r.Timezone)
				if bullet != "" {
					fmt.Fprintln(w)
				}
				header = true
			}
			fmt.Fprintf(w, "%s%s %s\n", bullet, in.Name, describeTrend(tr))
		}
	}
}

func renderMarkdown(r *analyzer.Report, w io.Writer) error {
	fmt.Fprintf(w, "# %s\n\n", title(r))
	if u := unitLine(r); u != "" {
		fmt.Fprintf(w, "%s\n\n", u)
	}
	fmt.Fprintf(w, "Tolerances: latency %s, success %s, throughput %s; false discovery rate %g.\n\n",
		pct(r.Settings.LatencyTolerance), points(r.Settings.SuccessTolerance), pct(r.Settings.ThroughputTolerance), r.Settings.FDR)
	fmt.Fprintln(w, "| Interface | Metric | Trend | Baseline | Current | Change | p (adjusted) | Verdict |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|---|")
	for _, in := range r.Interfaces {
		for _, key := range tableMetrics {
			m := in.Metrics[key]
			v := m.Verdict
			if v == analyzer.VerdictRegressed {
				v = "**" + v + "**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", in.Name, key, sparkline(in.Trend, key),
				Value(key, m.Baseline), Value(key, m.Current), Change(key, m.Change), formatP(m.QValue), v)
		}
	}
	writeChangePoints(w, r, "- ")
	writeTrends(w, r, "- ")
	writeEvidence(w, r, "- ")
	return nil
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the monthly values of key; blank where a month had none.
func sparkline(trend []analyzer.TrendPoint, key string) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range trend {
		if v, ok := p.Metrics[key]; ok && !math.IsNaN(float64(v)) {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
	}
	var b strings.Builder
	for _, p := range trend {
		v, ok := p.Metrics[key]
		switch {
		case !ok || math.IsNaN(float64(v)):
			b.WriteRune(' ')
		case hi-lo <= 1e-12*math.Max(1, math.Abs(hi)):
			b.WriteRune(sparks[len(sparks)/2])
		default:
			b.WriteRune(sparks[int(math.Round((float64(v)-lo)/(hi-lo)*float64(len(sparks)-1)))])
		}
	}
	return b.String()
}

// IsRatioKey reports whether a baseline key is a ratio (a success or dropped
// share), shown in percent and changed in points.
func IsRatioKey(key string) bool {
	return key == c.BaselineBusinessSuccess || key == c.BaselineSystemSuccess || key == c.BaselineDroppedRatio
}

// Value formats a metric value as reports show it: a duration, a percentage
// or a rate; "-" when absent.
func Value(key string, n analyzer.Num) string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "-"
	case IsRatioKey(key):
		return fmt.Sprintf("%.3f%%", v*100)
	case key == c.BaselineThroughput:
		return fmt.Sprintf("%.2f/s", v)
	}
	return time.Duration(v * float64(time.Second)).Round(10 * time.Microsecond).String()
}

// Change formats a change as reports show it: relative in percent, or in
// points for ratios; "-" when absent.
func Change(key string, n analyzer.Num) string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "-"
	case IsRatioKey(key):
		return fmt.Sprintf("%+.3fpt", v*100)
	}
	return fmt.Sprintf("%+.1f%%", v*100)
}

func formatP(n analyzer.Num) string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "-"
	case v < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", v)
}

func pct(v float64) string    { return fmt.Sprintf("%g%%", v*100) }
func points(v float64) string { return fmt.Sprintf("%gpt", v*100) }
