package conventions

import (
	"math"
	"testing"
)

func TestDurationBuckets(t *testing.T) {
	t.Parallel()
	b := DurationBuckets()
	if got, want := len(b), 73; got != want {
		t.Fatalf("len(DurationBuckets()) = %d, want %d (the README documents the series cost)", got, want)
	}
	if b[0] != 0.001 || b[len(b)-1] != 60 {
		t.Fatalf("buckets span %g..%g, want 0.001..60", b[0], b[len(b)-1])
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("bucket %d (%g) not above bucket %d (%g)", i, b[i], i-1, b[i-1])
		}
		// Between 5 ms and 5 s, adjacent bounds must be under 1.2x apart so
		// that a 10% quantile shift shows.
		if b[i-1] >= 0.005 && b[i] <= 5.02 {
			if r := b[i] / b[i-1]; r > 1.13 {
				t.Errorf("buckets %g and %g are %.3fx apart, want <= 1.13x", b[i-1], b[i], r)
			}
		}
	}
	// Callers may modify what they get.
	b[0] = math.Inf(1)
	if DurationBuckets()[0] != 0.001 {
		t.Fatal("DurationBuckets shares its backing array")
	}
}
