package loader

import (
	"math"
	"testing"
	"time"
)

func TestLinearPacerTotals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		p        linearPacer
		want     uint64
		rateHalf float64
	}{
		{"constant", linearPacer{From: 200, To: 200, Duration: 5 * time.Second}, 1000, 200},
		{"ramp up", linearPacer{From: 100, To: 400, Duration: 30 * time.Second}, 7500, 250},
		{"ramp from zero", linearPacer{From: 0, To: 100, Duration: 10 * time.Second}, 500, 50},
		{"ramp down", linearPacer{From: 400, To: 100, Duration: 10 * time.Second}, 2500, 250},
		{"fractional", linearPacer{From: 0.5, To: 0.5, Duration: 5 * time.Second}, 2, 0.5},
		{"burst", linearPacer{From: 1000, To: 1000, Duration: 10 * time.Second}, 10000, 1000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.p.Total(); got != tc.want {
				t.Errorf("Total() = %d, want %d", got, tc.want)
			}
			if got := tc.p.Rate(tc.p.Duration / 2); math.Abs(got-tc.rateHalf) > 1e-9 {
				t.Errorf("Rate(half) = %g, want %g", got, tc.rateHalf)
			}
			// Simulate an attacker that is never late: it sends exactly
			// Total() hits, each no earlier than due, then stops.
			var hits uint64
			var elapsed time.Duration
			for {
				wait, stop := tc.p.Pace(elapsed, hits)
				if stop {
					break
				}
				elapsed += wait
				if elapsed > tc.p.Duration {
					t.Fatalf("hit %d scheduled after the stage end (%v)", hits+1, elapsed)
				}
				hits++
				if hits > tc.want+10 {
					t.Fatalf("pacer does not stop: %d hits", hits)
				}
			}
			if hits != tc.want {
				t.Errorf("sent %d hits, want %d", hits, tc.want)
			}
		})
	}
}

func TestPacerCatchesUpWithoutWaiting(t *testing.T) {
	t.Parallel()
	p := linearPacer{From: 100, To: 100, Duration: 10 * time.Second}
	if wait, stop := p.Pace(time.Second, 10); wait != 0 || stop {
		t.Fatalf("behind schedule: wait=%v stop=%v, want 0,false", wait, stop)
	}
	if wait, _ := p.Pace(time.Second, 100); wait != 10*time.Millisecond {
		t.Fatalf("on schedule: wait=%v, want 10ms", wait)
	}
}
