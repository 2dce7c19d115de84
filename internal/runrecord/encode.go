package runrecord

import (
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// Sample is one float sample of a record series.
type Sample struct {
	Labels labels.Labels
	// T is the timestamp in milliseconds since the epoch.
	T int64
	V float64
}

// Encode returns the samples of a record in the layout of doc.go: the
// samples of one series together and in time order (what a TSDB appender
// or a remote-write request wants), series in a fixed order. It refuses a
// record that does not validate.
func Encode(r Record) ([]Sample, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	m := r.Meta
	end := m.End.UnixMilli()
	shards := strconv.Itoa(m.Shards)
	generator := ""
	if m.GeneratorSaturated {
		generator = c.RecordGeneratorSaturated
	}
	base := []string{c.LabelScenario, m.Scenario, c.LabelShard, m.Shard}
	series := func(name string, pairs ...string) labels.Labels {
		b := labels.NewScratchBuilder(2 + (len(base)+len(pairs))/2)
		b.Add(model.MetricNameLabel, name)
		for _, kv := range [][]string{base, pairs} {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" { // an empty value is no label at all
					b.Add(kv[i], kv[i+1])
				}
			}
		}
		b.Sort()
		return b.Labels()
	}
	out := []Sample{
		{series(c.MetricRecordInfo, c.LabelRunID, m.RunID, c.LabelShards, shards, c.LabelMode, m.Mode,
			c.LabelStatus, m.Status, c.LabelThresholds, m.Thresholds,
			c.LabelFailures, m.FailuresFile, c.LabelGenerator, generator), end, 1},
		{series(c.MetricRecordStart), end, unixSeconds(m.Start.UnixMilli())},
		{series(c.MetricRecordSteadyStart), end, unixSeconds(m.SteadyStart.UnixMilli())},
	}
	ifs := slices.Clone(r.Interfaces)
	slices.SortFunc(ifs, func(a, b InterfaceRecord) int { return strings.Compare(a.Name, b.Name) })
	for _, ir := range ifs {
		in := []string{c.LabelInterface, ir.Name}
		for _, o := range c.Outcomes {
			v, _ := ir.Requests.Get(o)
			out = append(out, Sample{series(c.MetricRecordRequests, c.LabelInterface, ir.Name, c.LabelOutcome, o), end, v})
		}
		out = append(out,
			Sample{series(c.MetricRecordScheduled, in...), end, ir.Scheduled},
			Sample{series(c.MetricRecordDropped, in...), end, ir.Dropped},
			Sample{series(c.MetricRecordActive, in...), end, ir.ActiveSeconds},
		)
		for _, b := range ir.Buckets {
			out = append(out, Sample{series(c.MetricRecordDurationBucket, c.LabelInterface, ir.Name, c.LabelLe, c.FormatLe(b.UpperBound)), end, b.Count})
		}
		for _, o := range c.Outcomes {
			ls := series(c.MetricRecordWindowRequests, c.LabelInterface, ir.Name, c.LabelOutcome, o)
			for _, w := range ir.Windows {
				v, _ := w.Requests.Get(o)
				out = append(out, Sample{ls, w.End.UnixMilli(), v})
			}
		}
		for i, q := range c.RecordWindowQuantiles {
			ls := series(c.MetricRecordWindowLatency, c.LabelInterface, ir.Name, c.LabelQuantile, q)
			for _, w := range ir.Windows {
				if w.Latency != nil {
					out = append(out, Sample{ls, w.End.UnixMilli(), w.Latency[i]})
				}
			}
		}
	}
	return out, nil
}

// unixSeconds turns milliseconds into seconds; the division is exact
// enough that math.Round(v*1000) gives the milliseconds back.
func unixSeconds(ms int64) float64 { return float64(ms) / 1000 }
