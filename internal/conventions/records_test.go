package conventions

import (
	"regexp"
	"strings"
	"testing"
)

func TestRecordNames(t *testing.T) {
	t.Parallel()
	name := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	seen := map[string]bool{}
	for _, m := range RecordMetrics {
		if !name.MatchString(m) || !strings.HasPrefix(m, Namespace+"_run_record_") {
			t.Errorf("record metric %q is not a %s_run_record_ name", m, Namespace)
		}
		if seen[m] {
			t.Errorf("record metric %q listed twice", m)
		}
		seen[m] = true
	}
	if len(RecordMetrics) != 10 || RecordMetrics[0] != MetricRecordInfo {
		t.Errorf("RecordMetrics = %v, want the 10 record series, info first", RecordMetrics)
	}
	for _, l := range []string{LabelShards, LabelStatus, LabelThresholds} {
		if !name.MatchString(l) || strings.HasPrefix(l, "__") {
			t.Errorf("label %q is not a valid label name", l)
		}
	}
	for _, q := range RecordWindowQuantiles {
		if !regexp.MustCompile(`^0\.[0-9]+$`).MatchString(q) {
			t.Errorf("window quantile %q is not written like Prometheus writes quantiles", q)
		}
	}
}
