package conventions

import (
	"math"
	"testing"
)

func TestFormatLe(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{
		0.005: "0.005", 1: "1.0", 60: "60.0", 0.0251: "0.0251", 1e-7: "1e-07", 1e21: "1e+21",
		math.Inf(1): "+Inf", math.Inf(-1): "-Inf", math.NaN(): "NaN", 0: "0.0",
	} {
		if got := FormatLe(v); got != want {
			t.Errorf("FormatLe(%g) = %q, want %q", v, got, want)
		}
	}
	for _, b := range DurationBuckets() {
		if got := FormatLe(b); got == "" || got[len(got)-1] == '.' {
			t.Errorf("FormatLe(%g) = %q", b, got)
		}
	}
}
