package synth

import (
	"bufio"
	"io"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/internal/exposition"
)

// TextFormat is a text exposition with timestamps.
type TextFormat = exposition.Format

const (
	// OpenMetrics: timestamps in seconds, ends with "# EOF", for
	// `promtool tsdb create-blocks-from openmetrics`.
	OpenMetrics = exposition.OpenMetrics
	// PrometheusText: timestamps in milliseconds, for the VictoriaMetrics
	// /api/v1/import/prometheus endpoint.
	PrometheusText = exposition.PrometheusText
)

// WriteText writes the whole history to w in format f, one sample a line.
func (cfg Config) WriteText(w io.Writer, f TextFormat) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	err := cfg.Generate(func(ls labels.Labels, t int64, v float64) error {
		line = exposition.AppendSample(line[:0], f, ls, t, v)
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return err
	}
	if f == OpenMetrics {
		if _, err := io.WriteString(bw, exposition.EOF); err != nil {
			return err
		}
	}
	return bw.Flush()
}
