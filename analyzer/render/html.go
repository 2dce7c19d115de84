package render

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/perfbase/perfbase/analyzer"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// chartSeries is one line; NaN values break it.
type chartSeries struct {
	Name, Color string
	X, Y        []float64
}

type chartMark struct {
	X     float64
	Label string
}

// chart is a small line chart drawn as inline SVG, so the report needs no
// script library and opens offline.
type chart struct {
	Title     string
	Series    []chartSeries
	Band      []float64 // [lo, hi] of the baseline band, or nil
	BandLabel string
	Marks     []chartMark
	XLabels   []chartMark
	YFormat   func(float64) string
}

const (
	chartW, chartH                 = 640, 220
	padL, padR, padT, padB float64 = 70, 12, 26, 30
)

func (ch chart) svg() template.HTML {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ch.Series {
		for i, x := range s.X {
			if math.IsNaN(s.Y[i]) {
				continue
			}
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, s.Y[i]), math.Max(ymax, s.Y[i])
		}
	}
	for _, v := range ch.Band {
		ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(ch.Title))
	fmt.Fprintf(&b, `<text x="%g" y="16" class="title">%s</text>`, padL, html.EscapeString(ch.Title))
	if math.IsInf(xmin, 0) {
		b.WriteString(`<text x="50%" y="50%" class="empty">no data</text></svg>`)
		return template.HTML(b.String())
	}
	if xmax == xmin {
		xmin, xmax = xmin-1, xmax+1
	}
	pad := (ymax - ymin) * 0.08
	if pad == 0 {
		pad = math.Max(math.Abs(ymax)*0.05, 1e-9)
	}
	ymin, ymax = ymin-pad, ymax+pad
	px := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*(chartW-padL-padR) }
	py := func(y float64) float64 { return padT + (ymax-y)/(ymax-ymin)*(chartH-padT-padB) }
	// axes and horizontal grid with labels
	for i := 0; i <= 4; i++ {
		y := ymin + (ymax-ymin)*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, py(y), py(y))
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-4, py(y)+4, html.EscapeString(ch.YFormat(y)))
	}
	for _, l := range ch.XLabels {
		x := math.Min(math.Max(px(l.X), padL+20), chartW-padR-22) // keep edge labels whole
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x, chartH-10, html.EscapeString(l.Label))
	}
	if len(ch.Band) == 2 {
		fmt.Fprintf(&b, `<rect class="band" x="%.1f" width="%.1f" y="%.1f" height="%.1f"><title>%s</title></rect>`,
			padL, chartW-padL-padR, py(ch.Band[1]), math.Max(1, py(ch.Band[0])-py(ch.Band[1])), html.EscapeString(ch.BandLabel))
	}
	for _, m := range ch.Marks {
		fmt.Fprintf(&b, `<line class="mark" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"><title>%s</title></line>`,
			px(m.X), px(m.X), padT, chartH-padB, html.EscapeString(m.Label))
		fmt.Fprintf(&b, `<text class="marklabel" x="%.1f" y="%.1f">%s</text>`, px(m.X)+3, padT+10, html.EscapeString(m.Label))
	}
	for si, s := range ch.Series {
		var d strings.Builder
		pen := false
		for i, x := range s.X {
			if math.IsNaN(s.Y[i]) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, px(x), py(s.Y[i]))
			pen = true
		}
		fmt.Fprintf(&b, `<path class="line" d="%s" stroke="%s"/>`, strings.TrimSpace(d.String()), s.Color)
		if len(s.X) <= 24 { // dots on monthly charts
			for i, x := range s.X {
				if !math.IsNaN(s.Y[i]) {
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s</title></circle>`,
						px(x), py(s.Y[i]), s.Color, html.EscapeString(s.Name), html.EscapeString(ch.YFormat(s.Y[i])))
				}
			}
		}
		fmt.Fprintf(&b, `<text class="legend" x="%.1f" y="16" text-anchor="end" fill="%s">%s</text>`, chartW-padR-float64(len(ch.Series)-1-si)*70, s.Color, html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func latencyFormat(v float64) string { return Value(c.BaselineLatencyP50, analyzer.Num(v)) }
func ratioFormat(v float64) string   { return fmt.Sprintf("%.2f%%", v*100) }

type htmlInterface struct {
	analyzer.InterfaceReport
	Rows        []htmlRow
	HasEvidence bool
	Charts      []template.HTML
	CPs         []string
	TrendLines  []string
}

type htmlRow struct {
	Metric, Baseline, Current, Change, P, Verdict, Evidence string
}

func htmlInterfaces(r *analyzer.Report) []htmlInterface {
	out := make([]htmlInterface, 0, len(r.Interfaces))
	for _, in := range r.Interfaces {
		hi := htmlInterface{InterfaceReport: in}
		for _, key := range tableMetrics {
			m := in.Metrics[key]
			hi.Rows = append(hi.Rows, htmlRow{key, Value(key, m.Baseline), Value(key, m.Current),
				Change(key, m.Change), formatP(m.QValue), m.Verdict, Evidence(m)})
			hi.HasEvidence = hi.HasEvidence || m.Evidence != nil
		}
		for _, cp := range in.ChangePoints {
			hi.CPs = append(hi.CPs, fmt.Sprintf("%s %s: %s → %s (%s)", cp.Date, cp.Metric,
				Value(cp.Metric, analyzer.Num(cp.Before)), Value(cp.Metric, analyzer.Num(cp.After)), Change(cp.Metric, analyzer.Num(cp.Change))))
		}
		for _, tr := range in.Trends {
			hi.TrendLines = append(hi.TrendLines, describeTrend(tr))
		}
		// monthly trend with the baseline band of p99 (baseline ± tolerance)
		var xs []float64
		var labels []chartMark
		var y50, y99 []float64
		for i, t := range in.Trend {
			xs = append(xs, float64(i))
			labels = append(labels, chartMark{X: float64(i), Label: t.Month})
			y50 = append(y50, numOr(t.Metrics, c.BaselineLatencyP50))
			y99 = append(y99, numOr(t.Metrics, c.BaselineLatencyP99))
		}
		trend := chart{Title: "Monthly latency; band: baseline p99 ± tolerance", XLabels: labels, YFormat: latencyFormat,
			Series: []chartSeries{{Name: "p50", Color: "#1f77b4", X: xs, Y: y50}, {Name: "p99", Color: "#d62728", X: xs, Y: y99}}}
		if m := in.Metrics[c.BaselineLatencyP99]; !math.IsNaN(float64(m.Baseline)) {
			b := float64(m.Baseline)
			tol := r.Settings.LatencyTolerance
			trend.Band = []float64{b * (1 - tol), b * (1 + tol)}
			trend.BandLabel = fmt.Sprintf("baseline p99 %s ± %s", latencyFormat(b), pct(tol))
		}
		hi.Charts = append(hi.Charts, trend.svg())

		// daily series with change points
		var dx, d50, d99, dbiz, dsys []float64
		var dl []chartMark
		index := map[string]float64{}
		for i, d := range in.Daily {
			x := float64(d.Date.Unix()) / 86400
			dx = append(dx, x)
			d50 = append(d50, d.Value(c.BaselineLatencyP50))
			d99 = append(d99, d.Value(c.BaselineLatencyP99))
			dbiz = append(dbiz, d.Value(c.BaselineBusinessSuccess))
			dsys = append(dsys, d.Value(c.BaselineSystemSuccess))
			index[d.Date.Format("2006-01-02")] = x
			if d.Date.Day() == 1 || i == 0 {
				dl = append(dl, chartMark{X: x, Label: d.Date.Format("2006-01")})
			}
		}
		var latMarks, okMarks []chartMark
		mark := func(metric, date, label string) {
			x, ok := index[date]
			if !ok {
				return
			}
			if IsRatioKey(metric) {
				okMarks = append(okMarks, chartMark{X: x, Label: label})
			} else {
				latMarks = append(latMarks, chartMark{X: x, Label: label})
			}
		}
		for _, cp := range in.ChangePoints {
			mark(cp.Metric, cp.Date, cp.Date+" "+Change(cp.Metric, analyzer.Num(cp.Change)))
		}
		for _, tr := range in.Trends {
			mark(tr.Metric, tr.Start, "trend from "+tr.Start+" "+Change(tr.Metric, analyzer.Num(tr.Change)))
		}
		hi.Charts = append(hi.Charts, chart{Title: "Daily latency with change points", XLabels: dl, YFormat: latencyFormat, Marks: latMarks,
			Series: []chartSeries{{Name: "p50", Color: "#1f77b4", X: dx, Y: d50}, {Name: "p99", Color: "#d62728", X: dx, Y: d99}}}.svg())
		hi.Charts = append(hi.Charts, chart{Title: "Daily success ratios with change points", XLabels: dl, YFormat: ratioFormat, Marks: okMarks,
			Series: []chartSeries{{Name: "business", Color: "#9467bd", X: dx, Y: dbiz}, {Name: "system", Color: "#2ca02c", X: dx, Y: dsys}}}.svg())
		out = append(out, hi)
	}
	return out
}

func numOr(m map[string]analyzer.Num, key string) float64 {
	if v, ok := m[key]; ok {
		return float64(v)
	}
	return math.NaN()
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perfbase report {{.R.Month}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1340px;color:#222;padding:0 1rem}
h1{font-size:1.4rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}
.v-regressed{color:#b00020;font-weight:bold}.v-improved{color:#087f23}.v-not_comparable{color:#a66a00}.v-insufficient_data{color:#888}
.charts{display:flex;flex-wrap:wrap;gap:.5rem}
svg.chart{background:#fafafa;border:1px solid #eee;border-radius:4px}
svg .title{font-size:12px;font-weight:600;fill:#333} svg .axis{font-size:10px;fill:#666} svg .legend{font-size:11px;font-weight:600}
svg .grid{stroke:#e5e5e5} svg .line{fill:none;stroke-width:1.6} svg .band{fill:#2ca02c;opacity:.15}
svg .mark{stroke:#b00020;stroke-dasharray:4 3;stroke-width:1.4} svg .marklabel{font-size:10px;fill:#b00020}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:3px;background:#eee}
</style></head><body>
<h1>perfbase report {{if .R.Run}}run {{.R.Run.RunID}} ({{.R.Run.Scenario}}){{else}}{{.R.Month}}{{end}} <span class="badge v-{{.R.Verdict}}">{{.R.Verdict}}</span></h1>
{{if .Unit}}<p>{{.Unit}}</p>{{end}}
<p>Compared with baseline <b>{{.R.Baseline.String}}</b> ({{.R.Baseline.Kind}}), time zone {{.R.Timezone}}.
A verdict needs a significant test after Benjamini-Hochberg correction (FDR {{.R.Settings.FDR}}) and a change beyond
the tolerance (latency {{.LatTol}}, success {{.OkTol}}, throughput {{.ThrTol}}).</p>
<table><tr><th>Interface</th><th>Verdict</th><th>Requests (current)</th><th>Change points</th><th>Trends</th></tr>
{{range .I}}<tr><td><a href="#{{.Name}}">{{.Name}}</a></td><td class="v-{{.Verdict}}">{{.Verdict}}</td><td>{{printf "%.0f" .Requests.Current}}</td><td>{{len .ChangePoints}}</td><td>{{len .Trends}}</td></tr>
{{end}}</table>
{{range .I}}<h2 id="{{.Name}}">{{.Name}} <span class="badge v-{{.Verdict}}">{{.Verdict}}</span></h2>
<table><tr><th>Metric</th><th>Baseline</th><th>Current</th><th>Change</th><th>p (adjusted)</th><th>Verdict</th>{{if .HasEvidence}}<th>Evidence</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Metric}}</td><td>{{.Baseline}}</td><td>{{.Current}}</td><td>{{.Change}}</td><td>{{.P}}</td><td class="v-{{.Verdict}}">{{.Verdict}}</td>{{if .Evidence}}<td>{{.Evidence}}</td>{{end}}</tr>
{{end}}</table>
{{if .CPs}}<p>Change points: {{range $i, $c := .CPs}}{{if $i}}; {{end}}{{$c}}{{end}}</p>{{end}}
{{if .TrendLines}}<p>Trends: {{range $i, $c := .TrendLines}}{{if $i}}; {{end}}{{$c}}{{end}}</p>{{end}}
<div class="charts">{{range .Charts}}{{.}}{{end}}</div>
{{end}}
<script>
// Marks each chart whose lines the browser laid out, so a headless test can tell.
window.addEventListener("load", function () {
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var drawn = 0;
    svg.querySelectorAll("path.line").forEach(function (p) { var b = p.getBBox(); if (b.width > 0) drawn++; });
    svg.setAttribute("data-rendered", drawn > 0 ? "true" : "false");
  });
  document.body.setAttribute("data-charts", document.querySelectorAll('svg.chart[data-rendered="true"]').length);
});
</script>
</body></html>
`))

func renderHTML(r *analyzer.Report, w io.Writer) error {
	return htmlTemplate.Execute(w, map[string]any{
		"R": r, "I": htmlInterfaces(r), "Unit": unitLine(r),
		"LatTol": pct(r.Settings.LatencyTolerance), "OkTol": points(r.Settings.SuccessTolerance), "ThrTol": pct(r.Settings.ThroughputTolerance),
	})
}
