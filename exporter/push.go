package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/perfbase/perfbase/internal/conventions"
)

// Push destinations.
const (
	PushPushgateway     = "pushgateway"
	PushVictoriaMetrics = "victoriametrics"
)

// PushOptions configure pushing a run's metrics, for loaders that
// Prometheus cannot scrape (short runs, jobs behind NAT).
type PushOptions struct {
	// URL of the Pushgateway, or of VictoriaMetrics (its
	// /api/v1/import/prometheus endpoint is appended).
	URL string
	// Kind is PushPushgateway or PushVictoriaMetrics.
	Kind string
	// Job is the Pushgateway job name. Default "perfbase".
	Job string
	// Interval between pushes during the run; 0 pushes only at the end.
	Interval time.Duration
	// Client carries auth and TLS. Default http.DefaultClient.
	Client *http.Client
	// RunID and Shard form the Pushgateway grouping key, so that loaders
	// and runs never overwrite each other.
	RunID string
	Shard string
}

// Validate reports what is wrong with the options.
func (o PushOptions) Validate() error {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("exporter: push URL %q must be an http(s) URL", o.URL)
	}
	if o.Kind != PushPushgateway && o.Kind != PushVictoriaMetrics {
		return fmt.Errorf("exporter: push kind %q must be %s or %s", o.Kind, PushPushgateway, PushVictoriaMetrics)
	}
	if o.Interval < 0 {
		return errors.New("exporter: push interval must not be negative")
	}
	return nil
}

// Pusher pushes a gatherer's metrics.
type Pusher struct {
	opts PushOptions
	g    prometheus.Gatherer
	pgw  *push.Pusher
}

// NewPusher validates the options.
func NewPusher(opts PushOptions, g prometheus.Gatherer) (*Pusher, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Job == "" {
		opts.Job = "perfbase"
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	// Only the run's own series: a loader's Go runtime metrics are of no
	// use once it has exited, and the Pushgateway keeps its own.
	g = onlyPrefix(g, conventions.Namespace+"_")
	p := &Pusher{opts: opts, g: g}
	if opts.Kind == PushPushgateway {
		// The Pushgateway adds the grouping labels to every series and
		// refuses series that carry them already.
		grouping := map[string]bool{conventions.LabelRunID: true, conventions.LabelShard: true}
		// Credentials in the URL become basic auth, so that the push
		// library's errors, which print the URL, never show them.
		u, _ := url.Parse(opts.URL)
		user := u.User
		u.User = nil
		p.pgw = push.New(u.String(), opts.Job).Gatherer(withoutLabels(g, grouping)).Client(opts.Client).
			Grouping(conventions.LabelRunID, opts.RunID)
		if user != nil {
			pass, _ := user.Password()
			p.pgw = p.pgw.BasicAuth(user.Username(), pass)
		}
		if opts.Shard != "" {
			p.pgw = p.pgw.Grouping(conventions.LabelShard, opts.Shard)
		}
	}
	return p, nil
}

// Push sends the current values once.
func (p *Pusher) Push(ctx context.Context) error {
	if p.pgw != nil {
		// PUT replaces the group, so the last push is the run's final state.
		if err := p.pgw.PushContext(ctx); err != nil {
			return fmt.Errorf("exporter: push to Pushgateway %s: %w", redact(p.opts.URL), err)
		}
		return nil
	}
	mfs, err := p.g.Gather()
	if err != nil {
		return fmt.Errorf("exporter: gather: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("exporter: encode %s: %w", mf.GetName(), err)
		}
	}
	u := strings.TrimSuffix(p.opts.URL, "/") + "/api/v1/import/prometheus"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &buf)
	if err != nil {
		return fmt.Errorf("exporter: push to VictoriaMetrics %s: %w", redact(p.opts.URL), err)
	}
	req.Header.Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("exporter: push to VictoriaMetrics %s: %w", redact(p.opts.URL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("exporter: push to VictoriaMetrics %s: HTTP %s", redact(p.opts.URL), resp.Status)
	}
	return nil
}

// Run pushes every Interval until ctx ends; failures are logged and
// retried at the next tick, since the final push is what must not be lost.
func (p *Pusher) Run(ctx context.Context, logger *slog.Logger) {
	if p.opts.Interval <= 0 {
		return
	}
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Push(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("periodic push failed", "err", err)
			}
		}
	}
}

// onlyPrefix gathers the families of g whose names start with prefix.
func onlyPrefix(g prometheus.Gatherer, prefix string) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		kept := mfs[:0]
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), prefix) {
				kept = append(kept, mf)
			}
		}
		return kept, err
	})
}

// withoutLabels gathers from g and removes the named labels.
func withoutLabels(g prometheus.Gatherer, drop map[string]bool) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				kept := m.Label[:0]
				for _, l := range m.GetLabel() {
					if !drop[l.GetName()] {
						kept = append(kept, l)
					}
				}
				m.Label = kept
			}
		}
		return mfs, err
	})
}

// redact drops credentials from a URL before it is logged.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid URL>"
	}
	return u.Redacted()
}
