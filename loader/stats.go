package loader

import (
	"math"
	"sync/atomic"
	"time"
)

// Latency histogram of the loader's own statistics: log buckets 1% apart
// from 1 µs to about 2 minutes, so quantiles in the summary are within 1%
// whatever the bucket layout of the exported metrics.
const (
	histBase    = 1.01
	histBuckets = 1870 // 1.01^1870 µs ≈ 120 s
)

var logHistBase = math.Log(histBase)

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Log(us)/logHistBase) + 1
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// upper bound of bucket i.
func bucketUpper(i int) time.Duration {
	return time.Duration(math.Pow(histBase, float64(i)) * float64(time.Microsecond))
}

// histogram is a lock-free latency histogram.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	h.counts[bucketOf(d)].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// histSnapshot is a point-in-time copy of a histogram.
type histSnapshot struct {
	counts [histBuckets]uint64
	total  uint64
	max    time.Duration
}

func (h *histogram) snapshot(s *histSnapshot) {
	s.total = 0
	for i := range h.counts {
		c := h.counts[i].Load()
		s.counts[i] = c
		s.total += c
	}
	s.max = time.Duration(h.max.Load())
}

// add merges o into s: the warm-up phase into the steady one.
func (s *histSnapshot) add(o *histSnapshot) {
	for i := range s.counts {
		s.counts[i] += o.counts[i]
	}
	s.total += o.total
	s.max = max(s.max, o.max)
}

// sub makes s the difference s - old, for windowed quantiles.
func (s *histSnapshot) sub(old *histSnapshot) {
	s.total = 0
	for i := range s.counts {
		s.counts[i] -= old.counts[i]
		s.total += s.counts[i]
	}
}

// quantile returns the q-quantile, the upper bound of its bucket (at most
// 1% above the true value), or 0 without observations.
func (s *histSnapshot) quantile(q float64) time.Duration {
	if s.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.total)))
	if rank == 0 {
		rank = 1
	}
	var cum uint64
	for i, c := range s.counts {
		cum += c
		if cum >= rank {
			u := bucketUpper(i)
			if s.max > 0 && u > s.max {
				return s.max
			}
			return u
		}
	}
	return s.max
}

// ifaceStats are one interface's counts, by phase (0 warm-up, 1 steady).
type ifaceStats struct {
	name     string
	sent     [2]atomic.Uint64
	dropped  [2]atomic.Uint64
	outcomes [2][NumOutcomes]atomic.Uint64
	latency  [2]histogram  // successful requests only
	target   atomic.Uint64 // math.Float64bits of the target rate
	users    atomic.Int64
	active   atomic.Int64 // nanoseconds the interface had load scheduled
}

func phaseIndex(warmup bool) int {
	if warmup {
		return 0
	}
	return 1
}

// counts is a snapshot of an interface's counters, summed over phases or not.
type counts struct {
	Sent, Dropped uint64
	Outcomes      [NumOutcomes]uint64
}

func (c counts) completed() uint64 {
	return c.Outcomes[Success] + c.Outcomes[BusinessFailure] + c.Outcomes[SystemFailure]
}

func (st *ifaceStats) counts(phase int) counts {
	var c counts
	c.Sent = st.sent[phase].Load()
	c.Dropped = st.dropped[phase].Load()
	for o := range c.Outcomes {
		c.Outcomes[o] = st.outcomes[phase][o].Load()
	}
	return c
}

func (st *ifaceStats) allCounts() counts {
	a, b := st.counts(0), st.counts(1)
	a.Sent += b.Sent
	a.Dropped += b.Dropped
	for o := range a.Outcomes {
		a.Outcomes[o] += b.Outcomes[o]
	}
	return a
}

// statsRecorder records into the loader's own statistics and forwards to
// the user's Recorder, so that both see every request exactly once.
type statsRecorder struct {
	st   *ifaceStats
	next InterfaceRecorder
}

func (r statsRecorder) Sent(warmup bool) {
	r.st.sent[phaseIndex(warmup)].Add(1)
	r.next.Sent(warmup)
}

func (r statsRecorder) Dropped(warmup bool, n uint64) {
	r.st.dropped[phaseIndex(warmup)].Add(n)
	r.next.Dropped(warmup, n)
}

func (r statsRecorder) Done(o Observation) {
	p := phaseIndex(o.Warmup)
	r.st.outcomes[p][o.Outcome].Add(1)
	if o.Outcome == Success {
		r.st.latency[p].observe(o.Latency)
	}
	r.next.Done(o)
}

func (r statsRecorder) SetTargetRate(rps float64) {
	r.st.target.Store(math.Float64bits(rps))
	r.next.SetTargetRate(rps)
}

func (r statsRecorder) SetUsers(n int) {
	r.st.users.Store(int64(n))
	r.next.SetUsers(n)
}
