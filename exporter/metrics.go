package exporter

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader"
)

// Options describe the run whose metrics are exported.
type Options struct {
	// RunID labels every series. Required.
	RunID string
	// Scenario and Mode go into perfbase_run_info.
	Scenario string
	Mode     string
	// Shard is "i/n" when this loader runs one shard of a scenario split
	// across loaders; "" otherwise. It becomes a label on every series so
	// that loaders pushing or storing side by side never collide.
	Shard string
	// NativeHistograms adds native (sparse) buckets to the latency
	// histogram, beside the classic ones, for backends that ingest them.
	NativeHistograms bool
	// Now is the clock for the start and end timestamps. Default time.Now.
	Now func() time.Time
}

// Validate reports what is wrong with the options.
func (o Options) Validate() error {
	var errs []error
	if o.RunID == "" {
		errs = append(errs, errors.New("exporter: run_id must not be empty"))
	}
	if strings.ContainsAny(o.RunID, "\n\r") {
		errs = append(errs, errors.New("exporter: run_id must be one line"))
	}
	return errors.Join(errs...)
}

// Metrics holds the metrics of one run. Create it with New.
type Metrics struct {
	reg  *prometheus.Registry
	opts Options

	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	scheduled  *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	failures   *prometheus.CounterVec
	codes      *prometheus.CounterVec
	inFlight   *prometheus.GaugeVec
	targetRate *prometheus.GaugeVec
	users      *prometheus.GaugeVec
	runEnd     prometheus.Gauge
	guard      prometheus.Gauge
	thresholds *prometheus.GaugeVec
	gen        generatorRecorder
}

// New registers the run's metrics on a new registry.
func New(opts Options) (*Metrics, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	reg := prometheus.NewRegistry()
	constLabels := prometheus.Labels{conventions.LabelRunID: opts.RunID}
	if opts.Shard != "" {
		constLabels[conventions.LabelShard] = opts.Shard
	}
	r := prometheus.WrapRegistererWith(constLabels, reg)
	m := &Metrics{reg: reg, opts: opts}

	iface := conventions.LabelInterface
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: conventions.MetricRequestsTotal,
		Help: "Completed requests by interface, phase and outcome (success, business_failure, system_failure).",
	}, []string{iface, conventions.LabelPhase, conventions.LabelOutcome})
	hopts := prometheus.HistogramOpts{
		Name:    conventions.MetricRequestDuration,
		Help:    "Latency of completed requests in seconds, by interface, phase and outcome.",
		Buckets: conventions.DurationBuckets(),
	}
	if opts.NativeHistograms {
		// Factor 1.1 keeps native buckets as fine as the classic layout.
		hopts.NativeHistogramBucketFactor = 1.1
		hopts.NativeHistogramMaxBucketNumber = 160
		hopts.NativeHistogramMinResetDuration = time.Hour
	}
	m.duration = prometheus.NewHistogramVec(hopts, []string{iface, conventions.LabelPhase, conventions.LabelOutcome})
	m.scheduled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: conventions.MetricRequestsScheduled,
		Help: "Requests taken off the schedule: sent or dropped.",
	}, []string{iface, conventions.LabelPhase})
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: conventions.MetricRequestsDropped,
		Help: "Scheduled requests that could not be sent on time and never were.",
	}, []string{iface, conventions.LabelPhase})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: conventions.MetricFailures,
		Help: "Failed requests by bounded reason (timeout, connection_refused, http_5xx, business_code, ...).",
	}, []string{iface, conventions.LabelPhase, conventions.LabelReason})
	m.codes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: conventions.MetricBusinessCodes,
		Help: fmt.Sprintf("Responses by business code; beyond %d distinct codes per interface they count as %q.", conventions.MaxBusinessCodes, conventions.BusinessCodeOther),
	}, []string{iface, conventions.LabelCode})
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: conventions.MetricInFlight,
		Help: "Requests sent and not yet answered.",
	}, []string{iface})
	m.targetRate = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: conventions.MetricTargetRate,
		Help: "Scheduled open-loop arrival rate of this loader in requests per second.",
	}, []string{iface})
	m.users = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: conventions.MetricVirtualUsers,
		Help: "Closed-loop virtual users of this loader.",
	}, []string{iface})
	runInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: conventions.MetricRunInfo,
		Help: "Always 1: the run's scenario and mode.",
	}, []string{conventions.LabelScenario, conventions.LabelMode})
	runStart := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: conventions.MetricRunStart,
		Help: "Start of the run in Unix seconds.",
	})
	m.runEnd = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: conventions.MetricRunEnd,
		Help: "End of the run in Unix seconds; 0 while it runs.",
	})
	m.guard = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: conventions.MetricGuardAborted,
		Help: "1 when the guard aborted the run to protect the target.",
	})
	m.thresholds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: conventions.MetricThresholdPassed,
		Help: "1 when the scenario threshold passed at the end of the run, 0 when it failed.",
	}, []string{iface, conventions.LabelThreshold})

	lag := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    conventions.MetricGeneratorLag,
		Help:    "How late the load generator sent open-loop requests (sent minus scheduled time), in seconds.",
		Buckets: conventions.LagBuckets(),
	})
	workers := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: conventions.MetricGeneratorWorkers,
		Help: "Workers and virtual users alive in the load generator.",
	})
	saturated := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: conventions.MetricGeneratorSaturated,
		Help: "1 while the load generator, not the target, limits the run (judged every second).",
	})
	m.gen = generatorRecorder{lag: lag, workers: workers, saturated: saturated}

	for _, c := range []prometheus.Collector{
		m.requests, m.duration, m.scheduled, m.dropped, m.failures, m.codes,
		m.inFlight, m.targetRate, m.users, runInfo, runStart, m.runEnd, m.guard, m.thresholds,
		lag, workers, saturated,
	} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("exporter: %w", err)
		}
	}
	// Build information is about the binary, not the run: no run_id.
	if err := reg.Register(versioncollector.NewCollector(conventions.Namespace)); err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	runInfo.WithLabelValues(opts.Scenario, opts.Mode).Set(1)
	runStart.Set(float64(opts.Now().UnixNano()) / 1e9)
	return m, nil
}

// Registry is the run's registry, for serving, pushing and scraping into
// the embedded store.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// RunGatherer gathers the run's own series (perfbase_*), without the Go
// runtime and process metrics that only matter while the loader lives:
// what an archive or a push should keep.
func (m *Metrics) RunGatherer() prometheus.Gatherer {
	return onlyPrefix(m.reg, conventions.Namespace+"_")
}

// Finish records the end of the run and its verdicts. The counters keep
// their values: they are served until the process exits.
func (m *Metrics) Finish(sum *loader.Summary) {
	m.runEnd.Set(float64(m.opts.Now().UnixNano()) / 1e9)
	if sum == nil {
		return
	}
	if sum.GuardAborted {
		m.guard.Set(1)
	}
	for _, is := range sum.Interfaces {
		for _, t := range is.Thresholds {
			v := 0.0
			if t.Passed {
				v = 1
			}
			m.thresholds.WithLabelValues(is.Name, t.Name).Set(v)
		}
	}
}

// Generator implements loader.GeneratorRecording.
func (m *Metrics) Generator() loader.GeneratorRecorder { return m.gen }

// generatorRecorder exports the load generator's own health.
type generatorRecorder struct {
	lag       prometheus.Histogram
	workers   prometheus.Gauge
	saturated prometheus.Gauge
}

func (g generatorRecorder) Lag(d time.Duration) { g.lag.Observe(d.Seconds()) }
func (g generatorRecorder) SetWorkers(n int)    { g.workers.Set(float64(n)) }
func (g generatorRecorder) SetSaturated(s bool) {
	v := 0.0
	if s {
		v = 1
	}
	g.saturated.Set(v)
}

// Interface implements loader.Recorder. It resolves every hot-path series
// of the interface once; the steady phase is created at once so that a
// failure-free interface still exports zero failures, the warm-up phase
// only when a warm-up request is seen.
func (m *Metrics) Interface(name string) loader.InterfaceRecorder {
	r := &ifaceRecorder{m: m, name: name}
	r.phases[1] = m.newPhase(name, conventions.PhaseSteady)
	r.inFlight = m.inFlight.WithLabelValues(name)
	r.targetRate = m.targetRate.WithLabelValues(name)
	r.users = m.users.WithLabelValues(name)
	r.codes = newBoundedCodes(func(code string) prometheus.Counter { return m.codes.WithLabelValues(name, code) })
	return r
}

// phaseCells are the pre-resolved series of one interface and phase.
type phaseCells struct {
	requests  [loader.NumOutcomes]prometheus.Counter
	duration  [loader.NumOutcomes]prometheus.Observer
	scheduled prometheus.Counter
	dropped   prometheus.Counter
	phase     string

	mu       sync.Mutex
	failures map[string]prometheus.Counter
}

func (m *Metrics) newPhase(name, phase string) *phaseCells {
	p := &phaseCells{phase: phase, failures: map[string]prometheus.Counter{}}
	for o := range loader.NumOutcomes {
		out := loader.Outcome(o).String()
		p.requests[o] = m.requests.WithLabelValues(name, phase, out)
		p.duration[o] = m.duration.WithLabelValues(name, phase, out)
	}
	p.scheduled = m.scheduled.WithLabelValues(name, phase)
	p.dropped = m.dropped.WithLabelValues(name, phase)
	return p
}

type ifaceRecorder struct {
	m    *Metrics
	name string

	warmupOnce sync.Once
	phases     [2]*phaseCells // 0 warm-up, 1 steady

	inFlight   prometheus.Gauge
	targetRate prometheus.Gauge
	users      prometheus.Gauge

	codes *boundedCodes[prometheus.Counter]
}

func (r *ifaceRecorder) phase(warmup bool) *phaseCells {
	if !warmup {
		return r.phases[1]
	}
	r.warmupOnce.Do(func() { r.phases[0] = r.m.newPhase(r.name, conventions.PhaseWarmup) })
	return r.phases[0]
}

// Sent implements loader.InterfaceRecorder.
func (r *ifaceRecorder) Sent(warmup bool) {
	r.phase(warmup).scheduled.Inc()
	r.inFlight.Inc()
}

// Dropped implements loader.InterfaceRecorder.
func (r *ifaceRecorder) Dropped(warmup bool, n uint64) {
	p := r.phase(warmup)
	p.scheduled.Add(float64(n))
	p.dropped.Add(float64(n))
}

// Done implements loader.InterfaceRecorder.
func (r *ifaceRecorder) Done(o loader.Observation) {
	p := r.phase(o.Warmup)
	r.inFlight.Dec()
	p.requests[o.Outcome].Inc()
	p.duration[o.Outcome].Observe(o.Latency.Seconds())
	if o.Reason != "" {
		p.failure(r.m, r.name, o.Reason).Inc()
	}
	if o.Code != "" {
		r.codes.get(o.Code).Inc()
	}
}

func (p *phaseCells) failure(m *Metrics, name, reason string) prometheus.Counter {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.failures[reason]
	if !ok {
		c = m.failures.WithLabelValues(name, p.phase, reason)
		p.failures[reason] = c
	}
	return c
}

// SetTargetRate implements loader.InterfaceRecorder.
func (r *ifaceRecorder) SetTargetRate(rps float64) { r.targetRate.Set(rps) }

// SetUsers implements loader.InterfaceRecorder.
func (r *ifaceRecorder) SetUsers(n int) { r.users.Set(float64(n)) }
