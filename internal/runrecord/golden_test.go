package runrecord

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestEncodeGolden pins the stored layout of one small record: any change
// of a name, label, value or timestamp shows in the diff of the golden
// file, and stored records of earlier versions would no longer decode.
func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	b, err := NewBuilder(t0, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := state{}
	s.observe("checkout", c.OutcomeSuccess, 0.012, 40)
	s.observe("checkout", c.OutcomeBusinessFailure, 0.3, 2)
	s.drop("checkout", 1)
	if err := b.Add(s.snap(t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	// A minute without completed requests: no latency sample for it.
	s.drop("checkout", 5)
	if err := b.Add(s.snap(t0.Add(2 * time.Minute))); err != nil {
		t.Fatal(err)
	}
	s.observe("checkout", c.OutcomeSuccess, 0.015, 20)
	s.observe("checkout", c.OutcomeSystemFailure, 10, 1)
	if err := b.Add(s.snap(t0.Add(2*time.Minute + 40*time.Second))); err != nil {
		t.Fatal(err)
	}
	m := testMeta("2025-03-04T095930-ab12", "checkout-smoke", "1/1")
	m.Start = t0.Add(-30 * time.Second)
	m.End = t0.Add(2*time.Minute + 40*time.Second + 120*time.Millisecond)
	rec, err := b.Build(m, map[string]float64{"checkout": 158.5})
	if err != nil {
		t.Fatal(err)
	}
	samples, err := Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	got := exposition(samples)
	path := filepath.Join("testdata", "record.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("encoded layout differs from %s (run go test -update if the change is intended):\n%s", path, firstDiff(got, string(want)))
	}
	// The golden listing decodes back to the record.
	back, err := Decode(toMatrix(samples))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRecords(back, []Record{rec}); d != "" {
		t.Error(d)
	}
}

// exposition lists samples like the Prometheus text format with
// millisecond timestamps: name{labels} value timestamp.
func exposition(samples []Sample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d samples\n", len(samples))
	for _, s := range samples {
		var ls []string
		s.Labels.Range(func(l labels.Label) {
			if l.Name != model.MetricNameLabel {
				ls = append(ls, fmt.Sprintf("%s=%q", l.Name, l.Value))
			}
		})
		fmt.Fprintf(&b, "%s{%s} %s %d\n", s.Labels.Get(model.MetricNameLabel), strings.Join(ls, ","),
			strconv.FormatFloat(s.V, 'g', -1, 64), s.T)
	}
	return b.String()
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, gl, wl)
		}
	}
	return ""
}
