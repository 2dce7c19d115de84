package synth

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// TextFormat is a text exposition with timestamps.
type TextFormat int

const (
	// OpenMetrics: timestamps in seconds, ends with "# EOF", for
	// `promtool tsdb create-blocks-from openmetrics`.
	OpenMetrics TextFormat = iota
	// PrometheusText: timestamps in milliseconds, for the VictoriaMetrics
	// /api/v1/import/prometheus endpoint.
	PrometheusText
)

// WriteText writes the whole history to w in format f, one sample a line.
func (cfg Config) WriteText(w io.Writer, f TextFormat) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	err := cfg.Generate(func(ls labels.Labels, t int64, v float64) error {
		line = line[:0]
		line = append(line, ls.Get(model.MetricNameLabel)...)
		line = append(line, '{')
		first := true
		ls.Range(func(l labels.Label) {
			if l.Name == model.MetricNameLabel {
				return
			}
			if !first {
				line = append(line, ',')
			}
			first = false
			line = append(line, l.Name...)
			line = append(line, '=')
			line = strconv.AppendQuote(line, l.Value)
		})
		line = append(line, "} "...)
		line = strconv.AppendFloat(line, v, 'g', -1, 64)
		line = append(line, ' ')
		if f == OpenMetrics {
			line = strconv.AppendInt(line, t/1000, 10)
			if ms := t % 1000; ms != 0 {
				line = append(line, fmt.Sprintf(".%03d", ms)...)
			}
		} else {
			line = strconv.AppendInt(line, t, 10)
		}
		line = append(line, '\n')
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return err
	}
	if f == OpenMetrics {
		if _, err := io.WriteString(bw, "# EOF\n"); err != nil {
			return err
		}
	}
	return bw.Flush()
}
