package conventions

import (
	"math"
	"strconv"
	"strings"
)

// FormatLe formats a bucket bound (le) or a quantile label value the way
// OpenMetrics does and Prometheus 3 normalises them: "0.005", "1.0",
// "+Inf". Every writer of series in perfbase (the store's scraper, the
// importer, run records, the synthetic history) uses it, so the le values
// of one bucket match whichever wrote it and sums by le never split.
func FormatLe(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if strings.ContainsAny(s, ".eE") {
		return s
	}
	return s + ".0"
}
