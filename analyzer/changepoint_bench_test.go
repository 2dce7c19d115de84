package analyzer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
)

// BenchmarkChangePoints1000x365 measures the change-point and trend
// search of a report over 1,000 interfaces x 365 days: four daily series
// each (p50, p99, business and system success), a tenth of them with a
// step and a tenth with a creep, half with autocorrelated noise. The
// previous method runs on the same series for comparison.
func BenchmarkChangePoints1000x365(b *testing.B) {
	const n = 1000
	o := DefaultOptions()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([][]Day, 0, n)
	for i := range n {
		cfg := synth.Config{Start: start, End: start.AddDate(1, 0, 0), Seed: uint64(i + 1), Weekly: 0.15, MissingDays: 0.05, DayNoise: 0.05,
			DayNoiseAR: float64(i%2) * 0.8}
		in := randomInterface(rng, fmt.Sprintf("if_%04d", i))
		switch i % 10 {
		case 0:
			in.Changes = []synth.Change{{Kind: synth.LatencyStep, At: start.AddDate(0, 0, 30+rng.IntN(300)), Size: 0.3}}
		case 1:
			in.Changes = []synth.Change{{Kind: synth.LatencyCreep, At: start.AddDate(0, 0, 30+rng.IntN(200)), Size: 0.4, Ramp: 90 * 24 * time.Hour}}
		}
		cfg.Interfaces = []synth.Interface{in}
		all = append(all, sampledDays(rng, cfg.Days()[in.Name]))
	}
	for _, method := range []struct {
		name string
		find changeMethod
	}{{"ar1-gls", findChanges}, {"legacy", legacyMethod}} {
		b.Run("method="+method.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			for range b.N {
				for _, days := range all {
					for _, m := range changePointMetrics {
						method.find(days, m, o.MinSegment, o.LatencyTolerance)
					}
				}
			}
			// CPU time, unlike elapsed time, hardly depends on what
			// else the machine runs
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuSeconds is the user and system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
