package analyzer

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Format is a report output format.
type Format string

// Report formats.
const (
	FormatTable    Format = "table"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
	FormatHTML     Format = "html"
)

// Formats lists the formats for flags and help.
var Formats = []Format{FormatTable, FormatMarkdown, FormatJSON, FormatHTML}

// RenderOptions tune rendering.
type RenderOptions struct {
	// Color adds ANSI colours to the table (for terminals).
	Color bool
}

// tableMetrics are the metrics shown in table and markdown reports.
var tableMetrics = []string{
	c.BaselineLatencyP50, c.BaselineLatencyP90, c.BaselineLatencyP99,
	c.BaselineBusinessSuccess, c.BaselineSystemSuccess, c.BaselineThroughput,
}

// Render writes the report in format f.
func (r *Report) Render(w io.Writer, f Format, o RenderOptions) error {
	switch f {
	case FormatTable:
		return r.renderTable(w, o)
	case FormatMarkdown:
		return r.renderMarkdown(w)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatHTML:
		return r.renderHTML(w)
	}
	return fmt.Errorf("unknown report format %q (want table, markdown, json or html)", f)
}

func (r *Report) title() string {
	return fmt.Sprintf("perfbase report %s (%s) against baseline %s [%s]: %s",
		r.Month, r.Timezone, r.Baseline.String(), r.Baseline.Kind, strings.ToUpper(r.Verdict))
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
	case VerdictRegressed:
		return ansiRed + ansiBold
	case VerdictImproved:
		return ansiGreen
	case VerdictNotComparable:
		return ansiYellow
	case VerdictInsufficient:
		return ansiDim
	}
	return ""
}

func (r *Report) renderTable(w io.Writer, o RenderOptions) error {
	paint := func(v string) string {
		if !o.Color || colorFor(v) == "" {
			return v
		}
		return colorFor(v) + v + ansiReset
	}
	fmt.Fprintln(w, r.title())
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
				formatValue(key, m.Baseline), formatValue(key, m.Current), formatChange(key, m.Change),
				formatP(m.QValue), paint(m.Verdict))
		}
		fmt.Fprintf(tw, "\t=> %s\t\t\t\t\t\t%s\n", in.Name, paint(in.Verdict))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeChangePoints(w, r, "")
	writeTrends(w, r, "")
	return nil
}

func writeChangePoints(w io.Writer, r *Report, bullet string) {
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
				formatValue(cp.Metric, Num(cp.Before)), formatValue(cp.Metric, Num(cp.After)), formatChange(cp.Metric, Num(cp.Change)))
		}
	}
}

// describeTrend is a trend in one line: its span, levels, change and pace.
func describeTrend(tr Trend) string {
	span := tr.Start + " to " + tr.End
	if tr.Ongoing {
		span = "since " + tr.Start + " (ongoing)"
	}
	return fmt.Sprintf("%s %s: %s -> %s (%s, %s per 30 days)", span, tr.Metric,
		formatValue(tr.Metric, Num(tr.Before)), formatValue(tr.Metric, Num(tr.After)),
		formatChange(tr.Metric, Num(tr.Change)), formatChange(tr.Metric, Num(tr.SlopePer30d)))
}

func writeTrends(w io.Writer, r *Report, bullet string) {
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

func (r *Report) renderMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "# %s\n\n", r.title())
	fmt.Fprintf(w, "Tolerances: latency %s, success %s, throughput %s; false discovery rate %g.\n\n",
		pct(r.Settings.LatencyTolerance), points(r.Settings.SuccessTolerance), pct(r.Settings.ThroughputTolerance), r.Settings.FDR)
	fmt.Fprintln(w, "| Interface | Metric | Trend | Baseline | Current | Change | p (adjusted) | Verdict |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|---|")
	for _, in := range r.Interfaces {
		for _, key := range tableMetrics {
			m := in.Metrics[key]
			v := m.Verdict
			if v == VerdictRegressed {
				v = "**" + v + "**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", in.Name, key, sparkline(in.Trend, key),
				formatValue(key, m.Baseline), formatValue(key, m.Current), formatChange(key, m.Change), formatP(m.QValue), v)
		}
	}
	writeChangePoints(w, r, "- ")
	writeTrends(w, r, "- ")
	return nil
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the monthly values of key; blank where a month had none.
func sparkline(trend []TrendPoint, key string) string {
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

func isRatioKey(key string) bool {
	return key == c.BaselineBusinessSuccess || key == c.BaselineSystemSuccess || key == c.BaselineDroppedRatio
}

func formatValue(key string, n Num) string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "-"
	case isRatioKey(key):
		return fmt.Sprintf("%.3f%%", v*100)
	case key == c.BaselineThroughput:
		return fmt.Sprintf("%.2f/s", v)
	}
	return time.Duration(v * float64(time.Second)).Round(10 * time.Microsecond).String()
}

func formatChange(key string, n Num) string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "-"
	case isRatioKey(key):
		return fmt.Sprintf("%+.3fpt", v*100)
	}
	return fmt.Sprintf("%+.1f%%", v*100)
}

func formatP(n Num) string {
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
