package scenario

import (
	"reflect"
	"testing"
	"time"
)

func TestThresholdsFor(t *testing.T) {
	t.Parallel()
	ratio := func(r float64) *float64 { return &r }
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	s := &Scenario{Thresholds: map[string]Threshold{
		ThresholdsAll: {P99: ms(500), P90: ms(200), SystemSuccess: 0.99, MaxDropped: ratio(0.01)},
		"own_p99":     {P99: ms(300)},
		"own_zeros":   {P99: 0, SystemSuccess: 0},
		"own_dropped": {MaxDropped: ratio(0), BusinessSuccess: 0.9},
	}}
	all := s.Thresholds[ThresholdsAll]
	for _, tc := range []struct {
		name string
		want Threshold
	}{
		{"unlisted", all},
		{"own_p99", Threshold{P99: ms(300), P90: ms(200), SystemSuccess: 0.99, MaxDropped: all.MaxDropped}},
		{"own_zeros", all},
		{"own_dropped", Threshold{P99: ms(500), P90: ms(200), SystemSuccess: 0.99, BusinessSuccess: 0.9, MaxDropped: ratio(0)}},
	} {
		if got := s.ThresholdsFor(tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ThresholdsFor(%q) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	only := &Scenario{Thresholds: map[string]Threshold{"a": {P50: ms(10)}}}
	if got := only.ThresholdsFor("a"); got != (Threshold{P50: ms(10)}) {
		t.Errorf("without %q: ThresholdsFor(a) = %+v", ThresholdsAll, got)
	}
	if got := (&Scenario{}).ThresholdsFor("a"); got != (Threshold{}) {
		t.Errorf("no thresholds: ThresholdsFor(a) = %+v", got)
	}
}
