package exporter

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader"
)

// VMMetrics records the same series as Metrics with VictoriaMetrics/metrics.
// Its latency histogram is a Prometheus-style one (le buckets from the same
// layout), because histogram_quantile needs le buckets.
type VMMetrics struct {
	set    *vm.Set
	labels string // run_id="...",shard="..." prefix of every label set
}

// NewVM creates the metrics of one run on a new set.
func NewVM(opts Options) (*VMMetrics, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	l := fmt.Sprintf("%s=%s", conventions.LabelRunID, strconv.Quote(opts.RunID))
	if opts.Shard != "" {
		l += fmt.Sprintf(",%s=%s", conventions.LabelShard, strconv.Quote(opts.Shard))
	}
	m := &VMMetrics{set: vm.NewSet(), labels: l}
	m.set.NewGauge(m.name(conventions.MetricRunInfo, conventions.LabelScenario, opts.Scenario, conventions.LabelMode, opts.Mode), nil).Set(1)
	return m, nil
}

// WritePrometheus writes the text exposition.
func (m *VMMetrics) WritePrometheus(w io.Writer) { m.set.WritePrometheus(w) }

// name renders metric{run_id="..",k="v",...}.
func (m *VMMetrics) name(metric string, kv ...string) string {
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	b.WriteString(m.labels)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteByte(',')
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(kv[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

// Interface implements loader.Recorder.
func (m *VMMetrics) Interface(name string) loader.InterfaceRecorder {
	r := &vmIface{m: m, name: name}
	r.codes = newBoundedCodes(func(code string) *vm.Counter {
		return m.set.NewCounter(m.name(conventions.MetricBusinessCodes, conventions.LabelInterface, name, conventions.LabelCode, code))
	})
	r.phases[1] = m.newPhase(name, conventions.PhaseSteady)
	r.inFlight = m.set.NewGauge(m.name(conventions.MetricInFlight, conventions.LabelInterface, name), nil)
	r.targetRate = m.set.NewGauge(m.name(conventions.MetricTargetRate, conventions.LabelInterface, name), nil)
	r.users = m.set.NewGauge(m.name(conventions.MetricVirtualUsers, conventions.LabelInterface, name), nil)
	return r
}

type vmPhase struct {
	requests  [loader.NumOutcomes]*vm.Counter
	duration  [loader.NumOutcomes]*vm.PrometheusHistogram
	scheduled *vm.Counter
	dropped   *vm.Counter
	phase     string
}

func (m *VMMetrics) newPhase(name, phase string) *vmPhase {
	p := &vmPhase{phase: phase}
	buckets := conventions.DurationBuckets()
	for o := range loader.NumOutcomes {
		kv := []string{conventions.LabelInterface, name, conventions.LabelPhase, phase, conventions.LabelOutcome, loader.Outcome(o).String()}
		p.requests[o] = m.set.NewCounter(m.name(conventions.MetricRequestsTotal, kv...))
		p.duration[o] = m.set.NewPrometheusHistogramExt(m.name(conventions.MetricRequestDuration, kv...), buckets)
	}
	kv := []string{conventions.LabelInterface, name, conventions.LabelPhase, phase}
	p.scheduled = m.set.NewCounter(m.name(conventions.MetricRequestsScheduled, kv...))
	p.dropped = m.set.NewCounter(m.name(conventions.MetricRequestsDropped, kv...))
	return p
}

type vmIface struct {
	m          *VMMetrics
	name       string
	warmupOnce sync.Once
	phases     [2]*vmPhase

	inFlight, targetRate, users *vm.Gauge

	codes *boundedCodes[*vm.Counter]
}

func (r *vmIface) phase(warmup bool) *vmPhase {
	if !warmup {
		return r.phases[1]
	}
	r.warmupOnce.Do(func() { r.phases[0] = r.m.newPhase(r.name, conventions.PhaseWarmup) })
	return r.phases[0]
}

func (r *vmIface) Sent(warmup bool) {
	r.phase(warmup).scheduled.Inc()
	r.inFlight.Inc()
}

func (r *vmIface) Dropped(warmup bool, n uint64) {
	p := r.phase(warmup)
	p.scheduled.AddInt64(int64(n))
	p.dropped.AddInt64(int64(n))
}

func (r *vmIface) Done(o loader.Observation) {
	p := r.phase(o.Warmup)
	r.inFlight.Dec()
	p.requests[o.Outcome].Inc()
	p.duration[o.Outcome].Update(o.Latency.Seconds())
	if o.Reason != "" {
		// GetOrCreate is the library's way for label sets known late;
		// failures are off the success path.
		r.m.set.GetOrCreateCounter(r.m.name(conventions.MetricFailures,
			conventions.LabelInterface, r.name, conventions.LabelPhase, p.phase, conventions.LabelReason, o.Reason)).Inc()
	}
	if o.Code != "" {
		r.codes.get(o.Code).Inc()
	}
}

func (r *vmIface) SetTargetRate(rps float64) { r.targetRate.Set(rps) }
func (r *vmIface) SetUsers(n int)            { r.users.Set(float64(n)) }
