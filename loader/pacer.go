package loader

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// linearPacer paces arrivals whose rate goes linearly from From to To req/s
// over Duration; From == To is a constant rate, a high constant rate after a
// low one is a burst. Hit k (1-based) is due at the time t where the
// integral of the rate from 0 to t reaches k, so a stage sends exactly
// floor(Hits(Duration)) requests when nothing is late.
type linearPacer struct {
	From, To float64 // req/s
	Duration time.Duration
}

var _ vegeta.Pacer = linearPacer{}

// Hits is the number of arrivals due by elapsed: the integral of the rate.
func (p linearPacer) Hits(elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	if elapsed > p.Duration {
		elapsed = p.Duration
	}
	t := elapsed.Seconds()
	return p.From*t + (p.To-p.From)*t*t/(2*p.Duration.Seconds())
}

// Total is the number of arrivals the stage schedules.
func (p linearPacer) Total() uint64 {
	// The epsilon keeps 200 req/s * 5 s at 1000, not 999.9999.
	return uint64(math.Floor(p.Hits(p.Duration) + 1e-6))
}

// due returns when arrival k (1-based) is due, or false if it is not due
// within the stage.
func (p linearPacer) due(k float64) (time.Duration, bool) {
	if k > p.Hits(p.Duration)+1e-6 {
		return 0, false
	}
	d := p.Duration.Seconds()
	a := (p.To - p.From) / (2 * d) // Hits(t) = a t² + From t
	var t float64
	if math.Abs(a) < 1e-12 {
		t = k / p.From
	} else {
		disc := p.From*p.From + 4*a*k
		if disc < 0 {
			disc = 0
		}
		t = (-p.From + math.Sqrt(disc)) / (2 * a)
	}
	if t > d {
		t = d
	}
	return time.Duration(t * float64(time.Second)), true
}

// Pace implements vegeta.Pacer. Behind schedule it asks for the next hit
// at once; past the stage's last arrival it stops.
func (p linearPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	at, ok := p.due(float64(hits + 1))
	if !ok {
		return 0, true
	}
	if at <= elapsed {
		return 0, false
	}
	return at - elapsed, false
}

// Rate implements vegeta.Pacer.
func (p linearPacer) Rate(elapsed time.Duration) float64 {
	if elapsed >= p.Duration {
		return p.To
	}
	return p.From + (p.To-p.From)*elapsed.Seconds()/p.Duration.Seconds()
}
