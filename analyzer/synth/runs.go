package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/perfbase/perfbase/internal/quantile"

	c "github.com/perfbase/perfbase/internal/conventions"
)

// RunsConfig is a history of pressure-test runs: a few runs a month, each a
// few minutes of steady load split into windows, as the run records keep
// them. Where Config models days, RunsConfig models what makes runs of one
// unchanged system differ: a run effect shared by all interfaces of a run
// (the environment that day), a run effect per interface, a run-to-run
// change of the latency tail and of the failure ratios, and within a run a
// window-to-window wander of latency that persists from one window to the
// next. Requests are drawn one window at a time (binomial outcomes,
// multinomial latency buckets), so every figure carries the sampling noise
// of its request count.
//
// The defaults are those of a fixed, dedicated test environment (see
// Defaults); tests raise them to find where a method stops working.
type RunsConfig struct {
	// Start and End bound the history; runs start in [Start, End).
	Start, End time.Time
	Location   *time.Location
	Seed       uint64
	// Interfaces use RPS, Median, Sigma, BusinessFailure, SystemFailure,
	// Dropped and Changes; a change applies to runs that start after At.
	Interfaces []Interface
	// MinRunsPerMonth and MaxRunsPerMonth bound the runs of each calendar
	// month (uniform in between); Times, when set, replaces the schedule.
	MinRunsPerMonth, MaxRunsPerMonth int
	Times                            []time.Time
	// MinDuration and MaxDuration bound a run's steady phase (whole
	// windows, uniform in between); Window is the record window length.
	MinDuration, MaxDuration, Window time.Duration

	// SharedWobble is the standard deviation of a run's log-latency effect
	// common to all interfaces; LatencyWobble that of each interface's own.
	SharedWobble, LatencyWobble float64
	// TailWobble is the standard deviation of a run's log change of the
	// lognormal sigma: it moves p99 more than p50.
	TailWobble float64
	// FailureWobble is the relative run-to-run spread of failure ratios.
	FailureWobble float64
	// WindowNoise is the standard deviation of a window's log-latency
	// around its run; WindowCorrelation the lag-one autocorrelation of
	// that wander (AR(1)).
	WindowNoise, WindowCorrelation float64
	// WindowFailureNoise is the relative window-to-window spread of
	// failure ratios within a run.
	WindowFailureNoise float64
}

// Defaults fills unset fields with the values of a fixed, dedicated
// pressure-test environment: 1 to 4 runs a month of 5 to 10 one-minute
// windows; run-to-run latency wobble 1% shared plus 1% per interface (1.4%
// in all on p50) and 1.5% on the tail's width (p99 1.7 to 2.8% in all for
// sigma 0.3 to 0.7); failure ratios 2% (relative) from run to run; within a
// run 2% window-to-window latency wander with lag-one autocorrelation 0.3
// and 10% failure ratio noise.
func (cfg *RunsConfig) Defaults() {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MinRunsPerMonth == 0 && cfg.MaxRunsPerMonth == 0 {
		cfg.MinRunsPerMonth, cfg.MaxRunsPerMonth = 1, 4
	}
	if cfg.MaxRunsPerMonth < cfg.MinRunsPerMonth {
		cfg.MaxRunsPerMonth = cfg.MinRunsPerMonth
	}
	if cfg.Window == 0 {
		cfg.Window = time.Minute
	}
	if cfg.MinDuration == 0 {
		cfg.MinDuration = 5 * cfg.Window
	}
	if cfg.MaxDuration < cfg.MinDuration {
		cfg.MaxDuration = max(cfg.MinDuration, 10*cfg.Window)
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.SharedWobble, 0.01)
	def(&cfg.LatencyWobble, 0.01)
	def(&cfg.TailWobble, 0.015)
	def(&cfg.FailureWobble, 0.02)
	def(&cfg.WindowNoise, 0.02)
	def(&cfg.WindowCorrelation, 0.3)
	def(&cfg.WindowFailureNoise, 0.1)
}

// Validate reports what is wrong with cfg.
func (cfg *RunsConfig) Validate() error {
	var errs []error
	if !cfg.Start.Before(cfg.End) && len(cfg.Times) == 0 {
		errs = append(errs, errors.New("synth: runs: start is not before end"))
	}
	for i, in := range cfg.Interfaces {
		if in.Name == "" || in.RPS <= 0 || in.Median <= 0 || in.Sigma <= 0 {
			errs = append(errs, fmt.Errorf("synth: runs: interfaces[%d] %q: name, rps, median and sigma are required", i, in.Name))
		}
	}
	if cfg.MinRunsPerMonth < 0 || cfg.MaxRunsPerMonth > 20 {
		errs = append(errs, fmt.Errorf("synth: runs: %d..%d runs a month is not within 0..20", cfg.MinRunsPerMonth, cfg.MaxRunsPerMonth))
	}
	if cfg.Window < time.Second || cfg.MinDuration < cfg.Window || cfg.MaxDuration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("synth: runs: window %s and duration %s..%s: want 1s <= window <= duration <= 24h", cfg.Window, cfg.MinDuration, cfg.MaxDuration))
	}
	if cfg.WindowCorrelation < 0 || cfg.WindowCorrelation >= 1 {
		errs = append(errs, fmt.Errorf("synth: runs: window correlation %v is not in [0, 1)", cfg.WindowCorrelation))
	}
	return errors.Join(errs...)
}

// Run is one generated pressure-test run.
type Run struct {
	ID         string
	Start, End time.Time
	// Interfaces are in the order of RunsConfig.Interfaces.
	Interfaces []RunInterface
}

// RunInterface is one interface's part of a run: what a run record holds
// (steady-phase totals, cumulative latency buckets of all outcomes, the
// windows) and the truth behind it.
type RunInterface struct {
	Name string
	// Active is the seconds with load.
	Active                                  float64
	Success, BusinessFailure, SystemFailure float64
	Scheduled, Dropped                      float64
	// Buckets are cumulative counts per conventions.DurationBuckets bound,
	// then +Inf.
	Buckets []float64
	Windows []RunWindow
	// Truth is the run's latency distribution and failure ratios before
	// window wander and sampling.
	Truth RunTruth
}

// RunTruth is the true behaviour of one interface in one run.
type RunTruth struct {
	Median, Sigma                  float64 // seconds, lognormal
	BusinessFailure, SystemFailure float64
}

// Quantile is the run's true latency quantile in seconds.
func (t RunTruth) Quantile(q float64) float64 {
	return t.Median * math.Exp(t.Sigma*math.Sqrt2*math.Erfinv(2*q-1))
}

// RunWindow is one window of a run.
type RunWindow struct {
	Start, End                              time.Time
	Success, BusinessFailure, SystemFailure float64
	Scheduled, Dropped                      float64
	// Buckets are the window's cumulative latency counts per
	// conventions.DurationBuckets bound, then +Inf.
	Buckets []float64
	// P50, P90 and P99 are the window's latency quantiles from its bucket
	// counts (histogram_quantile interpolation); NaN without requests.
	P50, P90, P99 float64
}

// Completed is the number of requests with an outcome.
func (w RunWindow) Completed() float64 { return w.Success + w.BusinessFailure + w.SystemFailure }

// Completed is the number of requests with an outcome.
func (r RunInterface) Completed() float64 { return r.Success + r.BusinessFailure + r.SystemFailure }

// Runs generates the history, runs in time order. The same config always
// yields the same runs.
func (cfg RunsConfig) Runs() ([]Run, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	times := cfg.schedule(rng)
	bounds := c.DurationBuckets()
	out := make([]Run, 0, len(times))
	for _, start := range times {
		windows := int(cfg.MinDuration / cfg.Window)
		if span := int(cfg.MaxDuration/cfg.Window) - windows; span > 0 {
			windows += rng.IntN(span + 1)
		}
		run := Run{ID: "run-" + start.Format("2006-01-02-1504"), Start: start,
			End: start.Add(time.Duration(windows) * cfg.Window)}
		shared := cfg.SharedWobble * rng.NormFloat64()
		for _, in := range cfg.Interfaces {
			run.Interfaces = append(run.Interfaces, cfg.runInterface(rng, in, run, windows, shared, bounds))
		}
		out = append(out, run)
	}
	return out, nil
}

// schedule draws the run start times: per calendar month a number of runs
// on distinct days, at office hours, in time order.
func (cfg RunsConfig) schedule(rng *rand.Rand) []time.Time {
	if len(cfg.Times) > 0 {
		ts := slices.Clone(cfg.Times)
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		return ts
	}
	var out []time.Time
	s := cfg.Start.In(cfg.Location)
	for m := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, cfg.Location); m.Before(cfg.End); m = m.AddDate(0, 1, 0) {
		n := cfg.MinRunsPerMonth + rng.IntN(cfg.MaxRunsPerMonth-cfg.MinRunsPerMonth+1)
		days := m.AddDate(0, 1, -1).Day()
		picked := rng.Perm(days)[:min(n, days)]
		slices.Sort(picked)
		for _, d := range picked {
			t := m.AddDate(0, 0, d).Add(time.Duration(9+rng.IntN(9))*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
			if !t.Before(cfg.Start) && t.Before(cfg.End) {
				out = append(out, t)
			}
		}
	}
	return out
}

func (cfg RunsConfig) runInterface(rng *rand.Rand, in Interface, run Run, windows int, shared float64, bounds []float64) RunInterface {
	// Draw every random number of the run whether used or not, so that
	// one knob does not reshuffle the rest of the history.
	own, tail := rng.NormFloat64(), rng.NormFloat64()
	bfNoise, sfNoise, rateNoise := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
	tr := RunTruth{
		Median:          in.Median.Seconds() * math.Exp(shared+cfg.LatencyWobble*own),
		Sigma:           in.Sigma * math.Exp(cfg.TailWobble*tail),
		BusinessFailure: in.BusinessFailure * math.Exp(cfg.FailureWobble*bfNoise),
		SystemFailure:   in.SystemFailure * math.Exp(cfg.FailureWobble*sfNoise),
	}
	for _, ch := range in.Changes {
		l := ch.level(run.Start)
		switch ch.Kind {
		case LatencyStep, LatencyCreep:
			tr.Median *= 1 + ch.Size*l
		case BusinessDip:
			tr.BusinessFailure += ch.Size * l
		case SystemDip:
			tr.SystemFailure += ch.Size * l
		}
	}
	tr.BusinessFailure, tr.SystemFailure = math.Min(1, tr.BusinessFailure), math.Min(1, tr.SystemFailure)
	// A paced load sends at the configured rate; the rate itself differs
	// from run to run only by the generator's precision.
	rate := in.RPS * math.Exp(0.002*rateNoise)
	ri := RunInterface{Name: in.Name, Truth: tr, Buckets: make([]float64, len(bounds)+1)}
	probs := make([]float64, len(bounds)+1)
	wb := make([]float64, len(bounds)+1)
	var wander float64
	for w := range windows {
		z := rng.NormFloat64()
		if w == 0 {
			wander = cfg.WindowNoise * z
		} else {
			rho := cfg.WindowCorrelation
			wander = rho*wander + math.Sqrt(1-rho*rho)*cfg.WindowNoise*z
		}
		bfw := math.Min(1, tr.BusinessFailure*math.Exp(cfg.WindowFailureNoise*rng.NormFloat64()))
		sfw := math.Min(1, tr.SystemFailure*math.Exp(cfg.WindowFailureNoise*rng.NormFloat64()))
		secs := cfg.Window.Seconds()
		sched := float64(poisson(rng, rate*secs))
		dropped := float64(binomial(rng, int64(sched), in.Dropped))
		done := int64(sched - dropped)
		sys := binomial(rng, done, sfw)
		biz := binomial(rng, done-sys, bfw)
		win := RunWindow{
			Start: run.Start.Add(time.Duration(w) * cfg.Window), End: run.Start.Add(time.Duration(w+1) * cfg.Window),
			Success: float64(done - sys - biz), BusinessFailure: float64(biz), SystemFailure: float64(sys),
		}
		// latency of all outcomes, as the record keeps it
		med := tr.Median * math.Exp(wander)
		prev := 0.0
		for i, b := range bounds {
			cdf := 0.5 * math.Erfc(-math.Log(b/med)/(tr.Sigma*math.Sqrt2))
			probs[i], prev = cdf-prev, cdf
		}
		probs[len(bounds)] = 1 - prev
		multinomial(rng, done, probs, wb)
		var cum float64
		bs := make([]quantile.Bucket, len(wb))
		win.Scheduled, win.Dropped = sched, dropped
		win.Buckets = make([]float64, len(wb))
		for i, n := range wb {
			cum += n
			ri.Buckets[i] += cum
			win.Buckets[i] = cum
			ub := math.Inf(1)
			if i < len(bounds) {
				ub = bounds[i]
			}
			bs[i] = quantile.Bucket{UpperBound: ub, Count: cum}
		}
		win.P50, win.P90, win.P99 = math.NaN(), math.NaN(), math.NaN()
		if done > 0 {
			win.P50 = quantile.Of(0.5, bs)
			win.P90 = quantile.Of(0.9, bs)
			win.P99 = quantile.Of(0.99, bs)
		}
		ri.Success += win.Success
		ri.BusinessFailure += win.BusinessFailure
		ri.SystemFailure += win.SystemFailure
		ri.Scheduled += sched
		ri.Dropped += dropped
		ri.Active += secs
		ri.Windows = append(ri.Windows, win)
	}
	return ri
}

// binomial draws the number of successes of n trials of probability p:
// exactly by geometric skips when few are expected, by the normal
// approximation (rounded, clamped) when many are.
func binomial(rng *rand.Rand, n int64, p float64) int64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(rng, n, 1-p)
	}
	mean := float64(n) * p
	if mean < 30 {
		// positions of successes: geometric gaps, in float64 so that a
		// tiny p cannot overflow the position
		lq := math.Log1p(-p)
		var k int64
		for i := 0.0; ; k++ {
			i += math.Floor(math.Log(1-rng.Float64())/lq) + 1
			if i > float64(n) {
				return k
			}
		}
	}
	v := math.Round(mean + math.Sqrt(mean*(1-p))*rng.NormFloat64())
	return int64(math.Max(0, math.Min(float64(n), v)))
}

// poisson draws a Poisson count of mean lambda (normal approximation above 30).
func poisson(rng *rand.Rand, lambda float64) int64 {
	if lambda <= 0 {
		return 0
	}
	if lambda >= 30 {
		return int64(math.Max(0, math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), int64(0), 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// multinomial spreads n over cells of probabilities probs (summing to 1)
// into out, by conditional binomials.
func multinomial(rng *rand.Rand, n int64, probs, out []float64) {
	rest := 1.0
	for i, p := range probs {
		out[i] = 0
		if n <= 0 || p <= 0 {
			continue
		}
		if i == len(probs)-1 || rest <= p {
			out[i] = float64(n)
			n = 0
			continue
		}
		k := binomial(rng, n, p/rest)
		out[i] = float64(k)
		n -= k
		rest -= p
	}
}
