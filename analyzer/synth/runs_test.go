package synth

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	c "github.com/perfbase/perfbase/internal/conventions"
)

func runsConfig(seed uint64) RunsConfig {
	return RunsConfig{
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), Seed: seed,
		Interfaces: []Interface{
			{Name: "query", RPS: 200, Median: 40 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.01, SystemFailure: 0.001},
			{Name: "pay", RPS: 50, Median: 120 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.02, SystemFailure: 0.002,
				Changes: []Change{{Kind: LatencyStep, At: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), Size: 0.5}}},
		},
	}
}

// TestRunsInvariants: runs are in order inside the history, 1 to 4 a
// month, 5 to 10 whole windows long; buckets are cumulative and end with
// the completed count; windows add up to the run; window quantiles are
// ordered.
func TestRunsInvariants(t *testing.T) {
	t.Parallel()
	cfg := runsConfig(1)
	runs, err := cfg.Runs()
	if err != nil {
		t.Fatal(err)
	}
	perMonth := map[time.Month]int{}
	for i, r := range runs {
		perMonth[r.Start.Month()]++
		if r.Start.Before(cfg.Start) || !r.Start.Before(cfg.End) {
			t.Errorf("run %s starts outside the history", r.ID)
		}
		if i > 0 && !runs[i-1].End.Before(r.Start) {
			t.Errorf("run %s overlaps the one before", r.ID)
		}
		if d := r.End.Sub(r.Start); d < 5*time.Minute || d > 10*time.Minute || d%time.Minute != 0 {
			t.Errorf("run %s lasts %s", r.ID, d)
		}
		for _, in := range r.Interfaces {
			if len(in.Buckets) != len(c.DurationBuckets())+1 {
				t.Fatalf("%d buckets", len(in.Buckets))
			}
			for j := 1; j < len(in.Buckets); j++ {
				if in.Buckets[j] < in.Buckets[j-1] {
					t.Fatalf("run %s %s: bucket %d decreases", r.ID, in.Name, j)
				}
			}
			if last := in.Buckets[len(in.Buckets)-1]; last != in.Completed() {
				t.Errorf("run %s %s: +Inf %v != completed %v", r.ID, in.Name, last, in.Completed())
			}
			var sum RunWindow
			for _, w := range in.Windows {
				sum.Success += w.Success
				sum.BusinessFailure += w.BusinessFailure
				sum.SystemFailure += w.SystemFailure
				if !(w.P50 <= w.P90 && w.P90 <= w.P99) {
					t.Errorf("run %s %s: window quantiles %v %v %v", r.ID, in.Name, w.P50, w.P90, w.P99)
				}
			}
			if sum.Success != in.Success || sum.BusinessFailure != in.BusinessFailure || sum.SystemFailure != in.SystemFailure {
				t.Errorf("run %s %s: windows add up to %+v, run has %v/%v/%v", r.ID, in.Name, sum, in.Success, in.BusinessFailure, in.SystemFailure)
			}
			if in.Active != r.End.Sub(r.Start).Seconds() || in.Scheduled < in.Completed() {
				t.Errorf("run %s %s: active %v, scheduled %v, completed %v", r.ID, in.Name, in.Active, in.Scheduled, in.Completed())
			}
		}
	}
	for m := time.January; m <= time.April; m++ {
		if n := perMonth[m]; n < 1 || n > 4 {
			t.Errorf("%s has %d runs, want 1 to 4", m, n)
		}
	}
}

func TestRunsReproducibleAndInjectChanges(t *testing.T) {
	t.Parallel()
	a, err := runsConfig(7).Runs()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := runsConfig(7).Runs()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same config, different runs")
	}
	other, _ := runsConfig(8).Runs()
	if reflect.DeepEqual(a, other) {
		t.Fatal("another seed, same runs")
	}
	for _, r := range a {
		want := 0.12 // pay's median, +50% from April
		if !r.Start.Before(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) {
			want *= 1.5
		}
		// run-to-run wobble is about 1.4%: 10% is far outside it
		if got := r.Interfaces[1].Truth.Median; math.Abs(got/want-1) > 0.1 {
			t.Errorf("run %s: pay median %v, want about %v", r.ID, got, want)
		}
	}
}

// TestRunsWobble: across many runs the spread of the true log medians is
// the configured sqrt(shared^2 + own^2), and the shared part is common to
// the interfaces of a run.
func TestRunsWobble(t *testing.T) {
	t.Parallel()
	cfg := runsConfig(3)
	cfg.Start, cfg.End = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg.MinRunsPerMonth, cfg.MaxRunsPerMonth = 10, 10
	cfg.SharedWobble, cfg.LatencyWobble = 0.03, 0.04
	cfg.MinDuration, cfg.MaxDuration = 5*time.Minute, 5*time.Minute
	runs, err := cfg.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var xs, ys []float64
	for _, r := range runs {
		xs = append(xs, math.Log(r.Interfaces[0].Truth.Median/0.04))
		ys = append(ys, math.Log(r.Interfaces[1].Truth.Median/0.12))
	}
	sd := func(v []float64) float64 {
		var m, ss float64
		for _, x := range v {
			m += x
		}
		m /= float64(len(v))
		for _, x := range v {
			ss += (x - m) * (x - m)
		}
		return math.Sqrt(ss / float64(len(v)-1))
	}
	if got := sd(xs); math.Abs(got-0.05) > 0.005 {
		t.Errorf("run-to-run sd of log median %.4f over %d runs, want 0.05", got, len(xs))
	}
	var cov float64
	for i := range xs {
		cov += xs[i] * ys[i]
	}
	// the history ends before pay's change in April
	if corr := cov / float64(len(xs)) / (sd(xs) * sd(ys)); corr < 0.1 {
		t.Errorf("correlation between interfaces %.2f, want the shared part (0.36)", corr)
	}
}

// TestBinomial: mean and variance right on both sampling paths, and a
// vanishing probability (a latency bucket far from the median) never
// overflows into garbage counts.
func TestBinomial(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n int64
		p float64
	}{{1000, 0.005}, {100000, 0.3}, {50, 0.9}, {1_000_000, 1e-300}, {1_000_000, 0}} {
		var s, ss float64
		const draws = 4000
		for range draws {
			k := float64(binomial(rng, tc.n, tc.p))
			if k < 0 || k > float64(tc.n) {
				t.Fatalf("binomial(%d, %g) = %v", tc.n, tc.p, k)
			}
			s += k
			ss += k * k
		}
		mean := s / draws
		variance := ss/draws - mean*mean
		wantMean, wantVar := float64(tc.n)*tc.p, float64(tc.n)*tc.p*(1-tc.p)
		if math.Abs(mean-wantMean) > 4*math.Sqrt(wantVar/draws)+1e-9 {
			t.Errorf("binomial(%d, %g): mean %v, want %v", tc.n, tc.p, mean, wantMean)
		}
		if wantVar > 1 && math.Abs(variance/wantVar-1) > 0.15 {
			t.Errorf("binomial(%d, %g): variance %v, want %v", tc.n, tc.p, variance, wantVar)
		}
	}
}

func TestRunsValidate(t *testing.T) {
	t.Parallel()
	for name, mut := range map[string]func(*RunsConfig){
		"no interface name":  func(c *RunsConfig) { c.Interfaces[0].Name = "" },
		"window correlation": func(c *RunsConfig) { c.WindowCorrelation = 1 },
		"end before start":   func(c *RunsConfig) { c.End = c.Start },
		"run under a window": func(c *RunsConfig) { c.MinDuration = 30 * time.Second },
	} {
		cfg := runsConfig(1)
		mut(&cfg)
		if _, err := cfg.Runs(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
