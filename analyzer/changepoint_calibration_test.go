package analyzer

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestChangePointThresholds checks the segmentation's thresholds where
// they were calibrated: on series of pure noise (AR(1) with coefficient
// 0 to 0.9, alone or under independent noise), with the noise estimated
// from each series as in use, at most 2% of series get a change (step or
// ramp) at any length a report searches.
func TestChangePointThresholds(t *testing.T) {
	t.Parallel()
	const trials = 400
	for _, n := range []int{90, 180, 365} {
		for _, c := range []struct{ phi, white float64 }{{0, 0}, {0.5, 0}, {0.9, 0}, {0.7, 0.5}, {0.9, 2}} {
			t.Run(fmt.Sprintf("n=%d/phi=%.1f/white=%.1f", n, c.phi, c.white), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(uint64(n), uint64(10*c.phi+100*c.white)))
				false_ := 0
				for range trials {
					x := arNoise(rng, n, c.phi, 1)
					for i := range x {
						x[i] += c.white * rng.NormFloat64()
					}
					if _, chs := segmentWithNoise(x, 7, 0); len(chs) > 0 {
						false_++
					}
				}
				t.Logf("%d of %d series with a change", false_, trials)
				if false_*50 > trials {
					t.Errorf("%d of %d noise series got a change, want at most 2%%", false_, trials)
				}
			})
		}
	}
}
