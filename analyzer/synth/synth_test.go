package synth

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// TestGenerateInvariants: counters never decrease within a run, buckets
// are cumulative, and +Inf, _count and the outcome counter agree.
func TestGenerateInvariants(t *testing.T) {
	t.Parallel()
	for _, continuous := range []bool{false, true} {
		cfg := fixture(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), 1, nil)
		cfg.Interfaces = cfg.Interfaces[2:]
		cfg.Continuous, cfg.Warmup = continuous, 0
		if continuous {
			cfg.Interval = 30 * time.Minute
		}
		last := map[string]float64{}
		type key struct {
			series string
			t      int64
		}
		at := map[key]float64{}
		var samples int
		err := cfg.Generate(func(ls labels.Labels, ts int64, v float64) error {
			samples++
			s := ls.String()
			if prev, ok := last[s]; ok && v < prev && continuous {
				t.Fatalf("%s decreased from %v to %v", s, prev, v)
			}
			last[s] = v
			at[key{s, ts}] = v
			if ls.Get(model.MetricNameLabel) == c.MetricRequestDuration+"_bucket" && ls.Get(c.LabelLe) == "+Inf" {
				total := ls.DropReserved(func(n string) bool { return n == model.MetricNameLabel })
				b := labels.NewBuilder(total).Del(c.LabelLe).Set(model.MetricNameLabel, c.MetricRequestsTotal).Labels()
				if want, ok := at[key{b.String(), ts}]; ok && want != v {
					t.Fatalf("+Inf bucket %v != requests_total %v at %d", v, want, ts)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if samples == 0 {
			t.Fatal("no samples")
		}
	}
}

func TestDaysAreReproducibleAndInjectChanges(t *testing.T) {
	t.Parallel()
	cfg := fixture(time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), 4, nil)
	a, b := cfg.Days(), cfg.Days()
	var before, after []float64
	for i, d := range a["recharge"] {
		if d != b["recharge"][i] {
			t.Fatal("same config, different days")
		}
		if !d.Present {
			continue
		}
		if d.Date.Before(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) {
			before = append(before, math.Log(d.Median))
		} else {
			after = append(after, math.Log(d.Median))
		}
	}
	if len(before) < 80 || len(after) < 25 {
		t.Fatalf("%d days before, %d after", len(before), len(after))
	}
	if r := math.Exp(mean(after) - mean(before)); r < 1.3 || r > 1.4 {
		t.Fatalf("April median %.2fx the earlier months', want about 1.35", r)
	}
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	cfg := Config{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
		RunDuration: time.Minute, Interfaces: []Interface{{Name: "a", RPS: 1, Median: time.Millisecond, Sigma: 0.5}}}
	var om, pt bytes.Buffer
	if err := cfg.WriteText(&om, OpenMetrics); err != nil {
		t.Fatal(err)
	}
	if err := cfg.WriteText(&pt, PrometheusText); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(om.String(), "# EOF\n") || strings.Contains(pt.String(), "# EOF") {
		t.Fatal("EOF marker wrong")
	}
	want := `perfbase_requests_scheduled_total{interface="a",phase="steady",run_id="nightly-2025-01-01"} 0 1735696800` + "\n"
	if !strings.HasPrefix(om.String(), want) {
		t.Fatalf("first line %q, want %q", strings.SplitN(om.String(), "\n", 2)[0], want)
	}
	if !strings.Contains(pt.String(), ` 1735696800000`+"\n") || !strings.Contains(om.String(), `le="0.001"`) {
		t.Fatal("timestamps or le format wrong")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cfg := Config{Start: time.Now(), End: time.Now().Add(-time.Hour), Interfaces: []Interface{{Name: "x"}}}
	err := cfg.Generate(func(labels.Labels, int64, float64) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "start is not before end") || !strings.Contains(err.Error(), `interfaces[0] "x"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestDayNoiseAR: autocorrelated day noise has the asked lag-1
// correlation and the same spread; without it the days are those the
// generator always produced (a pinned value of the demo history).
func TestDayNoiseAR(t *testing.T) {
	t.Parallel()
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, phi := range []float64{0, 0.5, 0.9} {
		cfg := Config{Start: start, End: start.AddDate(8, 0, 0), Seed: 3, DayNoise: 0.1, DayNoiseAR: phi,
			Interfaces: []Interface{{Name: "a", RPS: 10, Median: 50 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.01}}}
		var x []float64
		for _, d := range cfg.Days()["a"] {
			x = append(x, math.Log(d.Median))
		}
		m := mean(x)
		var c0, c1 float64
		for i := range x {
			c0 += (x[i] - m) * (x[i] - m)
			if i > 0 {
				c1 += (x[i] - m) * (x[i-1] - m)
			}
		}
		r, sd := c1/c0, math.Sqrt(c0/float64(len(x)))
		if math.Abs(r-phi) > 0.05 || math.Abs(sd/0.1-1) > 0.15 {
			t.Errorf("DayNoiseAR %v: lag-1 correlation %.3f, spread %.3f; want %v and 0.1", phi, r, sd, phi)
		}
	}
	d := fixture(time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), 4, nil).Days()["recharge"][0]
	if d.Median != 0.02417185607256235 {
		t.Errorf("first demo day's median %.17g: the default history changed", d.Median)
	}
	bad := Config{Start: start, End: start.AddDate(0, 0, 1), DayNoiseAR: 1, Interfaces: []Interface{{Name: "a", RPS: 1, Median: 1, Sigma: 1}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "AR coefficient") {
		t.Errorf("DayNoiseAR 1 accepted: %v", err)
	}
}

// TestMonthEnd: the last three days of each month are slower by MonthEnd,
// no other day is.
func TestMonthEnd(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{Start: start, End: start.AddDate(0, 3, 0), Seed: 4,
		Interfaces: []Interface{{Name: "a", RPS: 10, Median: 50 * time.Millisecond, Sigma: 0.5}}}
	plain := cfg.Days()["a"]
	cfg.MonthEnd = 0.2
	for i, d := range cfg.Days()["a"] {
		want := 1.0
		if last := d.Date.AddDate(0, 0, 3).Month() != d.Date.Month(); last {
			want = 1.2
		}
		if r := d.Median / plain[i].Median; math.Abs(r-want) > 1e-12 {
			t.Errorf("%s: median %.3fx, want %.1fx", d.Date.Format(time.DateOnly), r, want)
		}
	}
}
