package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/conventions"
)

// BaselineServer serves a saved baseline file as gauges, for rules that
// compare live quantiles with it in PromQL (`perfbase serve`). It holds the served baseline behind an atomic pointer: a
// reload swaps it whole, so a scrape sees the old or the new baseline,
// never a mix and never nothing.
type BaselineServer struct {
	file    string
	logger  *slog.Logger
	current atomic.Pointer[analyzer.Baseline]
	loaded  atomic.Int64 // Unix nanoseconds of the last successful load

	registry   *prometheus.Registry
	failures   prometheus.Counter
	lastReload prometheus.Gauge
	now        func() time.Time
}

// NewBaselineServer loads file; its error is the file's.
func NewBaselineServer(file string, logger *slog.Logger) (*BaselineServer, error) {
	s := &BaselineServer{file: file, logger: logger, registry: prometheus.NewRegistry(), now: time.Now}
	b, err := analyzer.LoadBaseline(file)
	if err != nil {
		return nil, err
	}
	s.current.Store(b)
	s.loaded.Store(s.now().UnixNano())
	s.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: conventions.MetricBaselineReloadFailures,
		Help: "Baseline reloads that failed; the previous baseline is still served.",
	})
	s.lastReload = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: conventions.MetricBaselineReloadSuccess,
		Help: "1 when the last baseline (re)load succeeded, 0 when it failed.",
	})
	s.lastReload.Set(1)
	s.registry.MustRegister(s.failures, s.lastReload, (*baselineCollector)(s),
		versioncollector.NewCollector(conventions.Namespace))
	return s, nil
}

// Reload reads the file again; on error the current baseline stays.
func (s *BaselineServer) Reload() error {
	b, err := analyzer.LoadBaseline(s.file)
	if err != nil {
		s.failures.Inc()
		s.lastReload.Set(0)
		s.logger.Error("baseline reload failed; still serving the previous one", "file", s.file, "err", err)
		return err
	}
	s.current.Store(b)
	s.loaded.Store(s.now().UnixNano())
	s.lastReload.Set(1)
	s.logger.Info("baseline reloaded", "file", s.file, "interfaces", len(b.Interfaces), "period", b.Source.String())
	return nil
}

// Handler serves /metrics, /-/healthy and POST /-/reload.
func (s *BaselineServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: s.registry}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "OK") })
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		if err := s.Reload(); err != nil {
			http.Error(w, "reload failed; previous baseline kept: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "reloaded")
	})
	return mux
}

// Serve answers on l until ctx is done, reloading on every value of reload.
func (s *BaselineServer) Serve(ctx context.Context, l net.Listener, reload <-chan os.Signal) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	for {
		select {
		case <-reload:
			_ = s.Reload() // logged and counted; the old baseline stays
		case err := <-errc:
			return fmt.Errorf("metrics server stopped: %w", err)
		case <-ctx.Done():
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("could not stop the metrics server: %w", err)
			}
			return nil
		}
	}
}

// baselineCollector turns the current baseline into gauges at scrape time.
type baselineCollector BaselineServer

var (
	baselineDescs = func() map[string]*prometheus.Desc {
		m := map[string]*prometheus.Desc{}
		for _, k := range conventions.BaselineMetrics {
			m[k] = prometheus.NewDesc(conventions.BaselineGauge(k),
				fmt.Sprintf("Baseline %s of each interface, from the served baseline file.", k),
				[]string{conventions.LabelInterface}, nil)
		}
		return m
	}()
	baselineInfoDesc = prometheus.NewDesc(conventions.MetricBaselineInfo,
		"1 for the served baseline; labels say where its figures come from.",
		[]string{conventions.LabelBaselineKind, conventions.LabelBaselinePeriod, conventions.LabelBaselineCreated}, nil)
	baselineLoadedDesc = prometheus.NewDesc(conventions.MetricBaselineLoadedAt,
		"When the served baseline was last loaded, in Unix seconds.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *baselineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range baselineDescs {
		ch <- d
	}
	ch <- baselineInfoDesc
	ch <- baselineLoadedDesc
}

// Collect implements prometheus.Collector.
func (c *baselineCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.current.Load()
	ch <- prometheus.MustNewConstMetric(baselineInfoDesc, prometheus.GaugeValue, 1,
		b.Source.Kind, b.Source.String(), b.Created.UTC().Format(time.RFC3339))
	ch <- prometheus.MustNewConstMetric(baselineLoadedDesc, prometheus.GaugeValue, float64(c.loaded.Load())/1e9)
	for _, in := range b.Interfaces {
		for _, k := range conventions.BaselineMetrics {
			if v, ok := in.Metrics[k]; ok {
				ch <- prometheus.MustNewConstMetric(baselineDescs[k], prometheus.GaugeValue, v, in.Name)
			}
		}
	}
}

// Interfaces is the number of interfaces in the served baseline.
func (s *BaselineServer) Interfaces() int { return len(s.current.Load().Interfaces) }
