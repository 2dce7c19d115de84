// Package exposition writes samples with timestamps as text: OpenMetrics
// for `promtool tsdb create-blocks-from openmetrics`, and the Prometheus
// text format with millisecond timestamps that VictoriaMetrics imports.
// Every text writer in perfbase (the importer's outputs, the synthetic
// history) uses it, so escaping and number formats cannot drift apart.
package exposition

import (
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Format is a text exposition with timestamps.
type Format int

const (
	// OpenMetrics has timestamps in seconds and ends with "# EOF".
	OpenMetrics Format = iota
	// PrometheusText has timestamps in milliseconds, as the
	// VictoriaMetrics /api/v1/import/prometheus endpoint reads them.
	PrometheusText
)

// EOF is the line an OpenMetrics exposition must end with.
const EOF = "# EOF\n"

// AppendSample appends one line, `name{l="v",...} value timestamp\n`, to
// b: t is in Unix milliseconds, written as f wants it.
func AppendSample(b []byte, f Format, ls labels.Labels, t int64, v float64) []byte {
	b = AppendSeries(b, ls)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	b = append(b, ' ')
	if f == OpenMetrics {
		b = strconv.AppendFloat(b, float64(t)/1000, 'f', -1, 64)
	} else {
		b = strconv.AppendInt(b, t, 10)
	}
	return append(b, '\n')
}

// AppendSeries appends name{l="v",...} with the text format's escaping of
// label values (backslash, double quote and newline; UTF-8 as is).
func AppendSeries(b []byte, ls labels.Labels) []byte {
	b = append(b, ls.Get(model.MetricNameLabel)...)
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if l.Name == model.MetricNameLabel {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, l.Name...)
		b = append(b, '=', '"')
		b = append(b, escaper.Replace(l.Value)...)
		b = append(b, '"')
	})
	return append(b, '}')
}

var escaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
