package loader

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/perfbase/perfbase/internal/conventions"
)

// Sizing of the open-loop worker pool. Each worker carries one request at
// a time over its own connection, so the pool is the in-flight bound.
const (
	// minWorkers are always allowed: a fast target at a low rate needs few.
	minWorkers = 8
	// littleHeadroom multiplies rate × latency (Little's law) so that
	// ordinary jitter in either never leaves an arrival without a worker.
	littleHeadroom = 2
	// sizeEvery is how often the pool's limit follows rate and latency.
	sizeEvery  = 100 * time.Millisecond
	refitEvery = 20 * time.Millisecond
	// starvedGrowEvery is how often a starved generator's pool may grow.
	starvedGrowEvery = time.Second
	// The scheduler sleeps at least long enough for wakeBurst arrivals,
	// within [minWake, maxWake]: each wake-up of an otherwise idle process
	// is a context switch, which at 5,000 req/s cost more CPU than the
	// requests (BENCHMARKS.md), while the arrivals of one wake-up leave
	// together, at most maxWake late, in bursts of at most wakeBurst.
	wakeBurst = 16
	minWake   = 500 * time.Microsecond
	maxWake   = 3 * time.Millisecond
)

// wakeQuantum is the scheduler's shortest sleep at rate req/s.
func wakeQuantum(rate float64) time.Duration {
	if rate <= 0 {
		return maxWake
	}
	return min(max(time.Duration(wakeBurst/rate*float64(time.Second)), minWake), maxWake)
}

// job is one arrival handed to a worker.
type job struct {
	due time.Time // scheduled
}

// attack carries one interface's load for one step: a scheduler that
// hands arrivals to a bounded pool of workers (open loop), or a fixed set
// of virtual users (closed loop). Requests are sent by the workers
// themselves and measured where they are sent, with no channel between
// the response and its recording.
type attack struct {
	e      *engine
	iface  string
	rec    InterfaceRecorder
	cls    *classifier
	send   *sender
	warmup bool
	// reqCtx is the parent of every request: cancelled only when the user
	// insists on quitting, so in-flight requests otherwise get their
	// whole timeout.
	reqCtx context.Context

	halt     chan struct{} // closed by stop: nothing more is sent
	halted   atomic.Bool
	haltOnce sync.Once
	done     chan struct{} // closed when the scheduler or users have ended
	workers  sync.WaitGroup

	// Open loop.
	pacer    vegeta.Pacer
	hits     func(elapsed time.Duration) float64 // arrivals due by elapsed
	lateness time.Duration
	ceiling  int // the user's max_in_flight
	began    time.Time
	handled  uint64 // scheduler only: arrivals sent or dropped

	// Observed latency for the pool's size (Little's law).
	latSum atomic.Int64 // ns, since the last sizing
	latN   atomic.Int64
	// inflight counts the requests sent and not yet recorded; its
	// abandonedBit is set when the user quits and the engine records what
	// is still in flight itself (see abandon).
	inflight atomic.Int64
}

// stop ends the attack now: the scheduler or users send nothing more;
// requests in flight finish within their timeout.
func (a *attack) stop() {
	a.haltOnce.Do(func() {
		a.halted.Store(true)
		close(a.halt)
	})
}

// fire sends one request and records it. due is when it was scheduled
// (zero in closed loop). A request whose attack was stopped after it was
// handed over is not sent: it counts as dropped, so that nothing reaches
// the target after a stop. So is one whose data set ran out, and that
// ends the interface's load.
func (a *attack) fire(due time.Time, sl *slot) {
	if a.halted.Load() {
		if !due.IsZero() {
			a.rec.Dropped(a.warmup, 1)
		}
		return
	}
	sampling := a.e.failures != nil
	r := a.send.do(a.reqCtx, sl, func() {
		if !due.IsZero() {
			a.e.gen.lag(a.warmup, time.Since(due))
		}
		a.rec.Sent(a.warmup)
		a.inflight.Add(1)
	}, sampling)
	if errors.Is(r.err, errExhausted) {
		a.rec.Dropped(a.warmup, 1)
		a.e.exhausted(a.iface)
		a.stop()
		return
	}
	if !a.complete() {
		return // the engine recorded it when the user quit
	}
	a.latSum.Add(int64(r.latency))
	a.latN.Add(1)
	var errText string
	if r.err != nil {
		errText = r.err.Error()
	}
	o, reason, code := a.cls.classify(uint16(r.code), errText, r.body)
	a.rec.Done(Observation{Outcome: o, Reason: reason, Code: code, Latency: r.latency, Warmup: a.warmup})
	if sampling && o != Success {
		a.e.failures.offer(a.iface, reason, a.send.method, &r)
	}
	if r.body != nil {
		sl.buf = r.body[:0] // keep a grown buffer
	}
}

// abandonedBit marks an attack's in-flight count as taken over by the engine.
const abandonedBit = int64(1) << 62

// complete takes one request off the in-flight count, and reports whether
// its worker records it: false once the engine has abandoned the attack's
// in-flight requests. Each request is recorded exactly once, by its worker
// or by abandon.
func (a *attack) complete() bool {
	for {
		n := a.inflight.Load()
		if n&abandonedBit != 0 {
			return false
		}
		if a.inflight.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// abandon takes over the requests still in flight when the user quits:
// they are recorded as system failures now (the process will not wait for
// their answers), and their workers will not record them again.
func (a *attack) abandon() {
	n := a.inflight.Or(abandonedBit) &^ abandonedBit
	for range n {
		a.rec.Done(Observation{Outcome: SystemFailure, Reason: conventions.ReasonTransport, Warmup: a.warmup})
	}
}

// runUsers is the closed loop: each user sends its next request when the
// last one is answered, until the attack is stopped.
func (a *attack) runUsers(users int) {
	defer close(a.done)
	for range users {
		a.e.gen.addWorker()
		a.workers.Go(func() {
			defer a.e.gen.removeWorker()
			var sl slot
			for !a.halted.Load() {
				a.fire(time.Time{}, &sl)
			}
		})
	}
	<-a.halt
}

// runOpen is the open loop: arrivals are scheduled by the pacer; each is
// handed to an idle worker, or to a new one while the pool is below its
// limit, within the lateness allowed; otherwise it is dropped and counted.
// A wait for the next arrival ends at once when the attack is stopped.
func (a *attack) runOpen() {
	defer close(a.done)
	jobs := make(chan job) // unbuffered: only an idle worker takes one
	defer close(jobs)
	p := pool{a: a, jobs: jobs, limit: min(minWorkers, a.ceiling), nextFit: a.began.Add(sizeEvery), lastFit: a.began}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		elapsed := now.Sub(a.began)
		if !now.Before(p.nextFit) {
			p.fit(now)
		}
		// Behind schedule by more than the lateness: those arrivals are
		// dropped at once, in one count, not handed out one by one.
		if elapsed > a.lateness {
			if must := uint64(a.hits(elapsed-a.lateness) + 1e-6); must > a.handled {
				a.drop(must-a.handled, false)
				a.handled = must
			}
		}
		wait, end := a.pacer.Pace(elapsed, a.handled)
		if end {
			return
		}
		if wait > 0 {
			// Wake-ups are batched: arrivals due within one quantum leave
			// together.
			timer.Reset(max(wait, wakeQuantum(a.pacer.Rate(elapsed))))
			select {
			case <-timer.C:
				continue
			case <-a.halt:
				a.dropDue()
				return
			}
		}
		due := now // a pacer that cannot say when: as soon as it allows
		if at, ok := dueAt(a.pacer, a.handled+1); ok {
			due = a.began.Add(at)
		}
		a.handled++
		if !p.hand(due, timer) {
			a.handled--
			a.dropDue()
			return
		}
	}
}

// pool is the open loop's workers, owned by the scheduler goroutine.
type pool struct {
	a       *attack
	jobs    chan job
	size    int
	limit   int
	ewma    float64 // observed latency, seconds
	nextFit time.Time
	lastFit time.Time
	grown   time.Time // when the limit last grew
}

// hand gives the arrival due at due to a worker: an idle one, or a new one
// while the pool is below its limit, waiting at most until the arrival's
// lateness runs out (then it is dropped). It returns false when the attack
// was stopped first.
func (p *pool) hand(due time.Time, timer *time.Timer) bool {
	a := p.a
	select {
	case p.jobs <- job{due}:
		return true
	case <-a.halt:
		return false
	default:
	}
	for {
		now := time.Now()
		// The limit keeps this arrival waiting: look at latency again
		// now rather than at the next sizing. A slow target's first
		// requests tell nothing until they end, but the time they have
		// been in flight already does.
		if p.size >= p.limit && p.limit < a.ceiling && now.Sub(p.lastFit) >= refitEvery {
			p.fit(now)
		}
		if p.size < p.limit {
			p.size++
			a.e.gen.addWorker()
			a.workers.Go(func() {
				defer a.e.gen.removeWorker()
				p.work()
			})
		}
		late := due.Add(a.lateness).Sub(now)
		if late <= 0 {
			a.drop(1, p.size >= a.ceiling)
			return true
		}
		wait := late
		if p.size >= p.limit && p.limit < a.ceiling {
			wait = min(wait, refitEvery)
		}
		timer.Reset(wait)
		select {
		case p.jobs <- job{due}:
			timer.Stop()
			return true
		case <-timer.C:
		case <-a.halt:
			timer.Stop()
			return false
		}
	}
}

// work is one worker: it sends the arrivals handed to it until the
// scheduler ends.
func (p *pool) work() {
	a := p.a
	var sl slot
	for j := range p.jobs {
		a.fire(j.due, &sl)
	}
}

// fit recomputes the pool's limit: twice the in-flight requests Little's
// law asks for at the current rate and the observed latency, never below
// minWorkers nor above the user's ceiling, so that a slow target gets the
// workers its latency asks for and a fast one keeps the pool small. While the
// process is short of CPU (its goroutines wake late: generator.starved)
// more workers would only add goroutines and connections competing for
// it, and completions stall for that reason alone: then the limit may
// shrink but not grow.
func (p *pool) fit(now time.Time) {
	a := p.a
	if n := a.latN.Swap(0); n > 0 {
		mean := time.Duration(a.latSum.Swap(0) / n).Seconds()
		if p.ewma == 0 {
			p.ewma = mean
		} else {
			p.ewma = 0.7*p.ewma + 0.3*mean
		}
	}
	lat := p.ewma
	if lat == 0 && a.inflight.Load()&^abandonedBit > 0 {
		// Nothing has completed yet: the first requests have been in
		// flight at least this long. Only until the first completion,
		// so that later stalls (the target's or the generator's) never
		// grow the pool by themselves.
		lat = now.Sub(a.began).Seconds()
	}
	want := littleHeadroom*a.pacer.Rate(now.Sub(a.began))*lat + minWorkers
	limit := int(math.Min(math.Max(math.Ceil(want), minWorkers), float64(a.ceiling)))
	switch {
	case limit <= p.limit:
		p.limit = limit
	case a.e.gen.starved():
		// Short of CPU, the latency may be the generator's own queue:
		// grow by a quarter a second at most, so that a slow target on a
		// busy machine still gets its workers, slowly, and a starved
		// generator never piles them up.
		if now.Sub(p.grown) >= starvedGrowEvery {
			p.limit = min(limit, p.limit+max(1, p.limit/4))
			p.grown = now
		}
	case now.Sub(p.grown) >= sizeEvery:
		// At most double every sizeEvery: the latency it grows on may be
		// inflated by the generator's own load, and a slower growth gives
		// the starvation probe time to see that.
		p.limit = min(limit, 2*p.limit)
		p.grown = now
	}
	p.nextFit, p.lastFit = now.Add(sizeEvery), now
}

// drop counts n arrivals that were not sent. capped says the in-flight
// ceiling, not the generator, kept them from being sent.
func (a *attack) drop(n uint64, capped bool) {
	a.rec.Dropped(a.warmup, n)
	if !capped {
		a.e.gen.dropped(a.warmup, n)
	}
}

// dropDue counts the arrivals due by now that the stopped attack will not
// send.
func (a *attack) dropDue() {
	if due := uint64(a.hits(time.Since(a.began)) + 1e-6); due > a.handled {
		a.rec.Dropped(a.warmup, due-a.handled)
		a.handled = due
	}
}

// dueAt is when arrival k (1-based) is due, for pacers that know it.
func dueAt(p vegeta.Pacer, k uint64) (time.Duration, bool) {
	if lp, ok := p.(linearPacer); ok {
		return lp.due(float64(k))
	}
	return 0, false
}
