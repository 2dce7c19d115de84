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

	"github.com/perfbase/perfbase/loader/feed"
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
	// Quit, when closed (the user insists: a second Ctrl-C), aborts the
	// requests in flight instead of letting them finish, so Run returns
	// at once.
	Quit <-chan struct{}
	// RunID is what {{run_id}} becomes in templates.
	RunID string
	// Failures, when set, keeps samples of failed requests.
	Failures *FailureSamples
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
	s       *scenario.Scenario
	opts    Options
	stats   map[string]*ifaceStats
	order   []string
	recs    map[string]InterfaceRecorder
	rates   map[string]*rateGauge
	cls     map[string]*classifier
	senders map[string]*sender
	// attacks are every attack started, for a quit to abandon.
	attacksMu sync.Mutex
	attacks   []*attack
	failures  *FailureSamples
	// exhaustedBy names, per interface, the data set that ran out.
	exhaustedBy sync.Map
	reqCtx      context.Context // parent of every load request; cancelled by Quit
	gen         generator
	drains      sync.WaitGroup
	stage       atomic.Value // string: the step running now

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
		stats:   map[string]*ifaceStats{},
		recs:    map[string]InterfaceRecorder{},
		rates:   map[string]*rateGauge{},
		cls:     map[string]*classifier{},
		senders: map[string]*sender{},
	}
	if gr, ok := opts.Recorder.(GeneratorRecording); ok {
		e.gen.rec = gr.Generator()
	}
	e.stage.Store("")
	transport := newTransport(s)
	defer transport.CloseIdleConnections()
	fast := newFastClient(s)
	if fast != nil {
		defer fast.CloseIdleConnections()
	}
	e.failures = opts.Failures
	pickers, err := newPickers(s, opts.Shard)
	if err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	for _, it := range s.Interfaces {
		st := &ifaceStats{name: it.Name}
		e.stats[it.Name] = st
		e.order = append(e.order, it.Name)
		e.recs[it.Name] = statsRecorder{st: st, next: opts.Recorder.Interface(it.Name)}
		e.rates[it.Name] = &rateGauge{rec: e.recs[it.Name]}
		e.cls[it.Name] = newClassifier(it.Expect)
		keep := int64(0)
		if e.cls[it.Name].business {
			keep = s.Defaults.MaxBody // else the body is drained but not kept
		}
		if opts.Failures != nil {
			keep = max(keep, sampleBody)
		}
		snd, err := newSender(s, it, transport, keep, opts.RunID, pickers)
		if err != nil {
			return nil, fmt.Errorf("loader: %w", err)
		}
		snd.fast = fast
		e.senders[it.Name] = snd
	}
	reqCtx, abortRequests := context.WithCancel(context.Background())
	defer abortRequests()
	e.reqCtx = reqCtx
	if opts.Quit != nil {
		go func() {
			select {
			case <-opts.Quit:
				abortRequests()
			case <-reqCtx.Done():
			}
		}()
	}

	// Set-up and teardown run once per run: on the first shard only.
	steps := opts.Shard.Index == 1
	var setup, teardown []StepResult
	if steps && len(s.Setup) > 0 {
		res, ok := e.runSteps(ctx, "setup", s.Setup, transport)
		setup = res
		if !ok {
			// Teardown still runs: it cleans up what set-up began.
			teardown, _ = e.runTeardown(transport)
			now := opts.Now()
			sum := e.summary(now, now, 0)
			sum.Setup, sum.Teardown, sum.Passed = setup, teardown, false
			return sum, ErrSetupFailed
		}
	}

	start := opts.Now()
	cpu0 := processCPU()
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
	bg.Go(func() { e.gen.watch(bgCtx, e.arrivals) })
	bg.Go(func() { e.gen.probe(bgCtx) })

	for _, stp := range plan(s, opts.Shard) {
		if runCtx.Err() != nil {
			break
		}
		e.stage.Store(stp.name)
		opts.Logger.Debug("stage started", "stage", stp.name, "duration", stp.duration, "warmup", stp.warmup)
		e.runStep(runCtx, stp)
	}
	// In-flight requests finish (bounded by their timeouts) so that every
	// sent request gets its outcome, unless the user insists on quitting:
	// then what is still in flight is left out of the summary.
	drained := make(chan struct{})
	go func() {
		e.drains.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-quitOrNever(opts.Quit):
		select {
		case <-drained:
		case <-time.After(quitGrace):
			opts.Logger.Warn("quitting with requests in flight: they count as system failures")
			e.attacksMu.Lock()
			for _, a := range e.attacks {
				a.abandon()
			}
			e.attacksMu.Unlock()
		}
	}
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
	cpu := processCPU() - cpu0
	// Teardown runs after the last load request, whatever ended the load.
	teardownOK := true
	if steps {
		teardown, teardownOK = e.runTeardown(transport)
	}

	sum := e.summary(start, end, cpu)
	sum.Setup, sum.Teardown = setup, teardown
	if !teardownOK {
		sum.TeardownFailed = true
		sum.Passed = false
	}
	sum.Interrupted = ctx.Err() != nil
	if e.guardAborted.Load() {
		sum.GuardAborted = true
		return sum, ErrGuardAborted
	}
	return sum, nil
}

// quitGrace is how long a quit waits for requests that net/http aborts
// to report back.
const quitGrace = 200 * time.Millisecond

func quitOrNever(q <-chan struct{}) <-chan struct{} {
	if q == nil {
		return make(chan struct{}) // never closed
	}
	return q
}

// stepContext is the context of teardown steps: not the run's (they run
// after Ctrl-C too), but ended by a second Ctrl-C.
func (e *engine) stepContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if e.opts.Quit != nil {
		go func() {
			select {
			case <-e.opts.Quit:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// runTeardown runs the teardown steps, if any.
func (e *engine) runTeardown(rt http.RoundTripper) ([]StepResult, bool) {
	if len(e.s.Teardown) == 0 {
		return nil, true
	}
	ctx, cancel := e.stepContext()
	defer cancel()
	return e.runSteps(ctx, "teardown", e.s.Teardown, rt)
}

// newPickers makes one picker per data set, in SetNames order, shared by
// every interface that reads it.
func newPickers(s *scenario.Scenario, sh Shard) ([]*feed.Picker, error) {
	var out []*feed.Picker
	for _, name := range s.SetNames() {
		d := s.Data[name]
		p, err := feed.NewPicker(s.Sets[name], feed.Order(d.Order), feed.OnExhausted(d.OnExhausted), sh.Index, sh.Count)
		if err != nil {
			return nil, fmt.Errorf("data set %s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// exhausted ends an interface's load for the rest of the run: a data set
// it needs has no row left.
func (e *engine) exhausted(iface string) {
	if _, loaded := e.exhaustedBy.LoadOrStore(iface, ""); !loaded {
		set, _ := e.senders[iface].exhausted.Load().(string)
		e.exhaustedBy.Store(iface, set)
		e.opts.Logger.Warn("data set used up: the interface's load ends", "interface", iface, "data_set", set)
	}
}

// arrivals is the number of open-loop arrivals taken off the schedule so
// far, all interfaces and phases together.
func (e *engine) arrivals() uint64 {
	var n uint64
	for _, st := range e.stats {
		c := st.allCounts()
		n += c.Sent + c.Dropped
	}
	return n
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
		// Requests carry the headers the scenario sets and no others,
		// over HTTP and HTTPS alike: no implicit Accept-Encoding.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
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
		if _, done := e.exhaustedBy.Load(l.iface); done {
			continue
		}
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
// function that ends it: early (Ctrl-C, guard) stops sending at once; on
// time lets an open loop hand out or drop its last arrivals within their
// lateness, and ends a closed loop's users.
func (e *engine) startLoad(ctx context.Context, stp step, l load) (stop func(early bool)) {
	a := &attack{
		e: e, iface: l.iface, rec: e.recs[l.iface], cls: e.cls[l.iface], send: e.senders[l.iface],
		warmup: stp.warmup, reqCtx: e.reqCtx,
		halt: make(chan struct{}), done: make(chan struct{}),
		lateness: e.s.Defaults.Lateness.D(), ceiling: e.s.Defaults.MaxInFlight,
		began: e.opts.Now(),
	}
	e.attacksMu.Lock()
	e.attacks = append(e.attacks, a)
	e.attacksMu.Unlock()
	stepDone := make(chan struct{}) // closed when the step ends
	if l.users > 0 {
		a.rec.SetUsers(l.users)
		e.rates[l.iface].begin(0)
		go a.runUsers(l.users)
	} else {
		p := linearPacer{From: l.from, To: l.to, Duration: stp.duration}
		a.pacer, a.hits = p, p.Hits
		a.rec.SetUsers(0)
		gen := e.rates[l.iface].begin(l.from)
		if l.to != l.from {
			go followRamp(ctx, stepDone, e.rates[l.iface], gen, p)
		}
		go a.runOpen()
	}
	// In-flight requests finish (bounded by their timeouts) in the
	// background so that the next step starts on time.
	e.drains.Go(func() {
		<-a.done
		a.workers.Wait()
	})

	var once sync.Once
	return func(early bool) {
		once.Do(func() {
			close(stepDone)
			if early || l.users > 0 {
				a.stop()
			}
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
