package loader

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// Saturation: the generator, not the target, limits the run when it is
// short of CPU (the run-queue probe, below) and its own lag (a request
// sent later than scheduled) is this large at the 99th percentile, or it
// dropped more than saturatedDropRatio of the arrivals with in-flight room
// to spare. Either way the latencies it measured include its own queueing,
// so they are not the target's alone.
const (
	saturatedLag       = 10 * time.Millisecond
	saturatedDropRatio = 0.01
	// A one-second window needs this many arrivals to be judged, so that
	// one slow wake-up at a low rate is not called saturation.
	saturatedMinArrivals = 50
)

// GeneratorRecorder records the load generator's own health, apart from
// any interface. A Recorder that also implements GeneratorRecording gets
// one.
type GeneratorRecorder interface {
	// Lag: a scheduled request was sent d after it was due.
	Lag(d time.Duration)
	// SetWorkers sets how many workers (open loop) and users (closed loop)
	// exist now.
	SetWorkers(n int)
	// SetSaturated says whether the generator limited the run in the last
	// second.
	SetSaturated(saturated bool)
}

// GeneratorRecording is implemented by Recorders that record the generator.
type GeneratorRecording interface {
	Generator() GeneratorRecorder
}

// generator is the engine's view of its own health, by phase as ifaceStats.
type generator struct {
	rec     GeneratorRecorder // nil: not recorded outside the summary
	lagHist [2]histogram
	drops   [2]atomic.Uint64 // arrivals dropped with in-flight room to spare
	workers atomic.Int64
	peak    atomic.Int64

	saturatedWindows atomic.Int64
	saturatedNow     atomic.Bool

	// Whether the last two finished probe windows were starved.
	starvedCur, starvedPrev atomic.Bool
}

// Starvation probe: every probeEvery a goroutine yields and measures how
// long it waits to run again. Gosched puts it behind every runnable
// goroutine, so the wait is the queue the workers' own network events
// wait in: long when the process has more work than CPU, whatever the
// target does. (A timer wake-up alone would not show it: the runtime
// runs a woken timer's goroutine next.)
const (
	probeEvery  = 10 * time.Millisecond
	probeWindow = 250 * time.Millisecond
	// starvedLag of run-queue wait means starved.
	starvedLag = 2 * time.Millisecond
	// busyShare of GOMAXPROCS' CPU time means starved.
	busyShare = 0.45
)

// probe measures the run-queue wait until ctx ends. A window is starved
// when at least half of its probes waited longer than starvedLag (one
// spike, another process's burst or a GC pause, is not starvation; a run
// queue that stays long is), or when the process used busyShare of its
// processors or more: then, as with another process on the same core
// taking the rest, more workers only compete for the same CPU. Waiting
// for a slow target uses next to none.
func (g *generator) probe(ctx context.Context) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	rotate := time.Now().Add(probeWindow)
	var probes, late int64
	lastCPU, lastAt := processCPU(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		began := time.Now()
		runtime.Gosched()
		now := time.Now()
		probes++
		if now.Sub(began) > starvedLag {
			late++
		}
		if now.After(rotate) {
			cpu := processCPU()
			busy := float64(cpu-lastCPU) / float64(now.Sub(lastAt)) / float64(runtime.GOMAXPROCS(0))
			lastCPU, lastAt = cpu, now
			g.starvedPrev.Store(g.starvedCur.Load())
			g.starvedCur.Store(2*late >= probes || busy >= busyShare)
			probes, late = 0, 0
			rotate = now.Add(probeWindow)
		}
	}
}

// starved reports whether the process waited for CPU lately: in the last
// finished probe window or the one before.
func (g *generator) starved() bool {
	return g.starvedCur.Load() || g.starvedPrev.Load()
}

func (g *generator) lag(warmup bool, d time.Duration) {
	g.lagHist[phaseIndex(warmup)].observe(max(d, 0))
	if g.rec != nil {
		g.rec.Lag(d)
	}
}

// addWorker counts a new worker or user, and removeWorker one that ended.
func (g *generator) addWorker() {
	n := g.workers.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (g *generator) removeWorker() { g.workers.Add(-1) }

func (g *generator) dropped(warmup bool, n uint64) { g.drops[phaseIndex(warmup)].Add(n) }

// watch judges saturation every second over the last second, for the
// progress view and the exported gauge, until ctx ends.
func (g *generator) watch(ctx context.Context, arrivals func() uint64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var prev histSnapshot
	var prevDrops, prevArrivals uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var cur histSnapshot
		g.lagHist[0].snapshot(&cur)
		var steady histSnapshot
		g.lagHist[1].snapshot(&steady)
		for i := range cur.counts {
			cur.counts[i] += steady.counts[i]
		}
		cur.total += steady.total
		win := cur
		win.sub(&prev)
		prev = cur
		drops := g.drops[0].Load() + g.drops[1].Load()
		arr := arrivals()
		// Lag and drops alone may be the pool growing towards a slow
		// target; with the run-queue probe's starvation they are the
		// generator's.
		sat := judge(&win, drops-prevDrops, arr-prevArrivals) && g.starved()
		prevDrops, prevArrivals = drops, arr
		g.saturatedNow.Store(sat)
		if sat {
			g.saturatedWindows.Add(1)
		}
		n := g.workers.Load()
		if g.rec != nil {
			g.rec.SetWorkers(int(n))
			g.rec.SetSaturated(sat)
		}
	}
}

// judge says whether lag or drops over some arrivals mean saturation.
func judge(lag *histSnapshot, drops, arrivals uint64) bool {
	if arrivals < saturatedMinArrivals {
		return false
	}
	return lag.quantile(0.99) > saturatedLag || float64(drops) > saturatedDropRatio*float64(arrivals)
}

// GeneratorSummary is the load generator's own health over the run:
// whether the latencies it reports are the target's or include its own
// queueing.
type GeneratorSummary struct {
	// Saturated: the generator, not the target, limited the run (steady
	// phase, or every phase without one); SaturatedReason says how.
	Saturated       bool   `json:"saturated"`
	SaturatedReason string `json:"saturated_reason,omitempty"`
	// SaturatedSeconds counts the one-second windows judged saturated.
	SaturatedSeconds int64 `json:"saturated_seconds"`
	// Lag of open-loop requests: sent time minus scheduled time.
	LagP50 float64 `json:"lag_p50_seconds"`
	LagP99 float64 `json:"lag_p99_seconds"`
	LagMax float64 `json:"lag_max_seconds"`
	// Dropped arrivals while the in-flight ceiling had room: the
	// generator could not send them in time.
	Dropped uint64 `json:"dropped"`
	// PeakWorkers is the most workers and users alive at once.
	PeakWorkers int64 `json:"peak_workers"`
	// CPUSeconds is the process's user+system CPU time during the load,
	// and CPUPerRequest that divided by completed requests.
	CPUSeconds    float64 `json:"cpu_seconds"`
	CPUPerRequest float64 `json:"cpu_seconds_per_request"`
}

// summary judges the whole run: the steady phase, or everything without one.
func (g *generator) summary(arrivals [2]uint64, completed uint64, cpu time.Duration) GeneratorSummary {
	var h histSnapshot
	g.lagHist[1].snapshot(&h)
	drops, arr := g.drops[1].Load(), arrivals[1]
	if arr == 0 {
		var w histSnapshot
		g.lagHist[0].snapshot(&w)
		h.add(&w)
		drops, arr = drops+g.drops[0].Load(), arrivals[0]
	}
	s := GeneratorSummary{
		LagP50: h.quantile(0.5).Seconds(), LagP99: h.quantile(0.99).Seconds(), LagMax: h.max.Seconds(),
		Dropped: drops, PeakWorkers: g.peak.Load(), SaturatedSeconds: g.saturatedWindows.Load(),
		CPUSeconds: cpu.Seconds(),
	}
	if completed > 0 {
		s.CPUPerRequest = cpu.Seconds() / float64(completed)
	}
	switch {
	case arr < saturatedMinArrivals, s.SaturatedSeconds == 0:
		// Too few to judge, or never short of CPU while late.
	case float64(drops) > saturatedDropRatio*float64(arr):
		s.Saturated = true
		s.SaturatedReason = "the generator dropped arrivals it had room to send"
	case h.quantile(0.99) > saturatedLag:
		s.Saturated = true
		s.SaturatedReason = "requests left later than scheduled: latencies include the generator's own queueing"
	}
	return s
}
