package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/perfbase/perfbase/internal/demotarget"
)

// DemoTargetCmd serves the demo business service that examples/*.yml and
// `perfbase demo` load.
type DemoTargetCmd struct {
	Listen               string        `help:"Address to serve on." default:"127.0.0.1:8080"`
	Latency              time.Duration `help:"Median latency of every endpoint (default: each endpoint's own, 8 to 25ms)."`
	Jitter               time.Duration `help:"Typical spread around --latency (log-normal)."`
	SystemFailureRatio   *float64      `help:"Share of requests answered HTTP 503 (default: each endpoint's own, about 0.1%)." placeholder:"RATIO"`
	BusinessFailureRatio *float64      `help:"Share of the other requests answered with a failing business code (default: 0.5 to 2%)." placeholder:"RATIO"`
	Slowdown             float64       `help:"Multiply every latency by this factor (1 = healthy)." default:"1"`
	ExtraSystemErrors    float64       `help:"Share of requests to fail with HTTP 503, on top of the normal rate." default:"0"`
	ExtraBusinessErrors  float64       `help:"Share of requests to fail with a business code, on top of the normal rate." default:"0"`
}

// Help is shown by --help.
func (c *DemoTargetCmd) Help() string {
	return `Endpoints: GET /api/balance, GET /api/bill, POST /api/recharge, answering
{"code":"0000"} on success. POST /-/degrade with form values slowdown,
extra_system_errors or extra_business_errors changes the service while it runs.

Examples:
  perfbase demo-target &
  perfbase run examples/mixed.yml
  perfbase demo-target --latency 20ms --jitter 5ms --business-failure-ratio 0.1 --system-failure-ratio 0.05
  curl -d slowdown=2 http://127.0.0.1:8080/-/degrade`
}

// Run implements the command.
func (c *DemoTargetCmd) Run(g *Globals) error {
	s, err := demotarget.NewWithOptions(demotarget.Options{
		Latency: c.Latency, Jitter: c.Jitter,
		SystemFailureRatio: c.SystemFailureRatio, BusinessFailureRatio: c.BusinessFailureRatio,
	})
	if err != nil {
		return badInput(err)
	}
	if err := s.Degrade(demotarget.Degradation{Slowdown: c.Slowdown, ExtraSystemErrors: c.ExtraSystemErrors, ExtraBusinessErrors: c.ExtraBusinessErrors}); err != nil {
		return badInput(err)
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return badInput(fmt.Errorf("demo-target: %w", err))
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	g.Logger.Info("demo target serving", "address", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("demo-target: %w", err)
	case <-g.Context().Done():
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("demo-target: %w", err)
	}
	return nil
}
