package loader

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/perfbase/perfbase/loader/scenario"
)

// ErrGuardAborted is the cause of a run's end when the guard stopped it to
// protect the target.
var ErrGuardAborted = errors.New("guard aborted the run: system success fell below the red line")

// Options configure a run. The zero value of each field is replaced by its
// default in Run.
type Options struct {
	// Recorder receives every measurement (the exporter's metrics). Default: none.
	Recorder Recorder
	// Shard is this loader's part of the scenario. Default 1/1.
	Shard Shard
	// Logger for stage changes and the guard. Default: discard.
	Logger *slog.Logger
	// Progress, when set, is called every ProgressInterval with a snapshot.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// Now is the clock (tests inject one). Default time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Recorder == nil {
		o.Recorder = NopRecorder{}
	}
	if o.Shard.Count == 0 {
		o.Shard = Shard{Index: 1, Count: 1}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// engine runs one scenario.
type engine struct {
	s      *scenario.Scenario
	opts   Options
	stats  map[string]*ifaceStats
	order  []string
	recs   map[string]InterfaceRecorder
	rates  map[string]*rateGauge
	cls    map[string]*classifier
	client map[string]*http.Client
	drains sync.WaitGroup
	stage  atomic.Value // string: the step running now

	guardAborted atomic.Bool
}

// Run drives the scenario's load until its stages end, ctx is cancelled
// (Ctrl-C) or the guard aborts. It returns the summary in every case; the
// error is ErrGuardAborted when the guard stopped the run, or a setup error.
// A cancelled ctx is a clean stop, not an error: the summary covers what ran.
func Run(ctx context.Context, s *scenario.Scenario, opts Options) (*Summary, error) {
	opts.setDefaults()
	if err := opts.Shard.Validate(); err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	e := &engine{
		s: s, opts: opts,
		stats:  map[string]*ifaceStats{},
		recs:   map[string]InterfaceRecorder{},
		rates:  map[string]*rateGauge{},
		cls:    map[string]*classifier{},
		client: map[string]*http.Client{},
	}
	e.stage.Store("")
	transport := newTransport(s)
	defer transport.CloseIdleConnections()
	for _, it := range s.Interfaces {
		st := &ifaceStats{name: it.Name}
		e.stats[it.Name] = st
		e.order = append(e.order, it.Name)
		e.recs[it.Name] = statsRecorder{st: st, next: opts.Recorder.Interface(it.Name)}
		e.rates[it.Name] = &rateGauge{rec: e.recs[it.Name]}
		e.cls[it.Name] = newClassifier(it.Expect)
		e.client[it.Name] = &http.Client{
			Transport: transport,
			Timeout:   it.Timeout.D(),
			// Load goes to the configured target only: a redirect is
			// answered as it is and judged by the expected statuses.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}

	start := opts.Now()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var bg sync.WaitGroup
	bgCtx, stopBG := context.WithCancel(context.Background())
	if s.Guard != nil {
		bg.Go(func() { e.guard(bgCtx, cancel) })
	}
	if opts.Progress != nil {
		bg.Go(func() { e.progressLoop(bgCtx, start) })
	}

	for _, stp := range plan(s, opts.Shard) {
		if runCtx.Err() != nil {
			break
		}
		e.stage.Store(stp.name)
		opts.Logger.Debug("stage started", "stage", stp.name, "duration", stp.duration, "warmup", stp.warmup)
		e.runStep(runCtx, stp)
	}
	// In-flight requests finish (bounded by their timeouts) so that every
	// sent request gets its outcome.
	e.drains.Wait()
	end := opts.Now()
	stopBG()
	bg.Wait()
	for name, r := range e.recs {
		e.rates[name].begin(0)
		r.SetUsers(0)
	}
	if opts.Progress != nil {
		opts.Progress(e.progress(start, end, nil))
	}

	sum := e.summary(start, end)
	sum.Interrupted = ctx.Err() != nil
	if e.guardAborted.Load() {
		sum.GuardAborted = true
		return sum, ErrGuardAborted
	}
	return sum, nil
}

// newTransport is shared by all interfaces so connections are reused
// across stages; sizes follow the scenario's in-flight cap.
func newTransport(s *scenario.Scenario) *http.Transport {
	dialer := &net.Dialer{Timeout: s.Defaults.Timeout.D(), KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:               nil, // never send load through a proxy picked up from the environment
		DialContext:         dialer.DialContext,
		MaxIdleConns:        s.Defaults.MaxInFlight,
		MaxIdleConnsPerHost: s.Defaults.MaxInFlight,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: s.Defaults.Timeout.D(),
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: s.Defaults.Insecure}, //nolint:gosec // the user asked for it in the scenario
		ForceAttemptHTTP2:   true,
	}
}

// runStep runs one step's loads concurrently and returns when the step's
// time is up or ctx is done. Draining of late responses goes on in the
// background so the next step starts on time.
func (e *engine) runStep(ctx context.Context, stp step) {
	stepCtx, cancel := context.WithTimeout(ctx, stp.duration)
	defer cancel()
	var stops []func(early bool)
	active := map[string]bool{}
	for _, l := range stp.loads {
		active[l.iface] = true
		stops = append(stops, e.startLoad(stepCtx, stp, l))
	}
	// Interfaces idle in this step (concentrated mode) show no target.
	for _, name := range e.order {
		if !active[name] {
			e.rates[name].begin(0)
			e.recs[name].SetUsers(0)
		}
	}
	began := e.opts.Now()
	<-stepCtx.Done()
	ran := e.opts.Now().Sub(began)
	for _, l := range stp.loads {
		e.stats[l.iface].active.Add(int64(ran))
	}
	// The step ran to its end unless the run itself was stopped (Ctrl-C,
	// guard): judging by elapsed time instead would race with the last
	// arrival, which is due exactly at the end of the step.
	early := ctx.Err() != nil
	for _, stop := range stops {
		stop(early)
	}
}

// startLoad starts one interface's attack for a step and returns the
// function that ends it.
func (e *engine) startLoad(ctx context.Context, stp step, l load) (stop func(early bool)) {
	it, _ := e.s.Interface(l.iface)
	rec := e.recs[l.iface]
	cls := e.cls[l.iface]
	warmup := stp.warmup

	var hdr http.Header
	if len(it.Headers) > 0 {
		hdr = make(http.Header, len(it.Headers))
		for k, v := range it.Headers {
			hdr.Set(k, v)
		}
	}
	target := vegeta.Target{Method: it.Method, URL: e.s.URL(it), Body: []byte(it.Body), Header: hdr}
	var sent atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		sent.Add(1)
		rec.Sent(warmup)
		*t = target
		return nil
	}

	maxBody := e.s.Defaults.MaxBody
	if !cls.business {
		maxBody = 0 // the body is drained but not kept
	}
	attackerOpts := []func(*vegeta.Attacker){
		vegeta.Client(e.client[l.iface]),
		vegeta.MaxBody(maxBody),
	}

	stepDone := make(chan struct{}) // closed when the step ends
	var pacer vegeta.Pacer
	var scheduled func(elapsed time.Duration) uint64
	var dropper *droppingPacer
	if l.users > 0 {
		attackerOpts = append(attackerOpts, vegeta.Workers(uint64(l.users)), vegeta.MaxWorkers(uint64(l.users)))
		pacer = closedPacer{Duration: stp.duration}
		rec.SetUsers(l.users)
		e.rates[l.iface].begin(0)
	} else {
		inner := linearPacer{From: l.from, To: l.to, Duration: stp.duration}
		dropper = &droppingPacer{
			inner:    inner,
			lateness: e.s.Defaults.Lateness.D(),
			onDrop:   func(n uint64) { rec.Dropped(warmup, n) },
		}
		pacer = dropper
		scheduled = func(elapsed time.Duration) uint64 {
			if elapsed >= stp.duration {
				return inner.Total()
			}
			return uint64(inner.Hits(elapsed) + 1e-6)
		}
		attackerOpts = append(attackerOpts, vegeta.MaxWorkers(uint64(e.s.Defaults.MaxInFlight)))
		rec.SetUsers(0)
		gen := e.rates[l.iface].begin(l.from)
		if l.to != l.from {
			go followRamp(ctx, stepDone, e.rates[l.iface], gen, inner)
		}
	}

	atk := vegeta.NewAttacker(attackerOpts...)
	began := e.opts.Now()
	results := atk.Attack(targeter, pacer, stp.duration, "")
	var stoppedAt atomic.Int64 // elapsed when stopped early; 0 = ran to the end
	e.drains.Go(func() {
		for res := range results {
			o, reason, code := cls.classify(res.Code, res.Error, res.Body)
			rec.Done(Observation{Outcome: o, Reason: reason, Code: code, Latency: res.Latency, Warmup: warmup})
		}
		if dropper == nil {
			return
		}
		// Arrivals due but neither sent nor dropped yet (the attack was
		// behind when its time ran out, or it was stopped) are dropped.
		due := scheduled(stp.duration)
		if at := stoppedAt.Load(); at > 0 {
			due = scheduled(time.Duration(at))
		}
		if handled := sent.Load() + dropper.dropped.Load(); handled < due {
			rec.Dropped(warmup, due-handled)
		}
	})

	var once sync.Once
	return func(early bool) {
		once.Do(func() {
			close(stepDone)
			if early {
				stoppedAt.Store(int64(max(e.opts.Now().Sub(began), 1)))
				atk.Stop()
				return
			}
			// On time: give the last arrival its lateness before stopping
			// an attack that is behind, so it is sent rather than dropped.
			time.AfterFunc(e.s.Defaults.Lateness.D(), func() { atk.Stop() })
		})
	}
}

// followRamp updates the target-rate gauge during a ramp, until the step
// or the run ends; the next step sets its own rate.
func followRamp(ctx context.Context, stepDone <-chan struct{}, g *rateGauge, gen uint64, p linearPacer) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	began := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stepDone:
			return
		case <-t.C:
			g.update(gen, p.Rate(time.Since(began)))
		}
	}
}

// rateGauge serialises target-rate updates of one interface: a ramp's
// follower may wake up after the next step has set its own rate, and
// must not overwrite it.
type rateGauge struct {
	mu  sync.Mutex
	gen uint64
	rec InterfaceRecorder
}

// begin sets the rate of a new step and returns its generation.
func (g *rateGauge) begin(rps float64) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen++
	g.rec.SetTargetRate(rps)
	return g.gen
}

// update sets the rate if generation gen is still the current one.
func (g *rateGauge) update(gen uint64, rps float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gen == g.gen {
		g.rec.SetTargetRate(rps)
	}
}
