package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/series"
)

// ChangeKind is a kind of injected change.
type ChangeKind string

// Injected change kinds.
const (
	// LatencyStep multiplies latency by 1+Size from At on.
	LatencyStep ChangeKind = "latency_step"
	// LatencyCreep raises latency linearly over Ramp up to 1+Size.
	LatencyCreep ChangeKind = "latency_creep"
	// BusinessDip lowers the business success ratio by Size (absolute).
	BusinessDip ChangeKind = "business_dip"
	// SystemDip lowers the system success ratio by Size (absolute).
	SystemDip ChangeKind = "system_dip"
)

// Change is one injected change, from At until Until (zero: for good).
type Change struct {
	Kind  ChangeKind
	At    time.Time
	Until time.Time
	Size  float64
	Ramp  time.Duration
}

// level is the change's fraction of Size in effect at t.
func (ch Change) level(t time.Time) float64 {
	if t.Before(ch.At) || !ch.Until.IsZero() && !t.Before(ch.Until) {
		return 0
	}
	if ch.Ramp > 0 {
		return math.Min(1, float64(t.Sub(ch.At))/float64(ch.Ramp))
	}
	return 1
}

// Interface is one generated interface's normal behaviour and changes.
type Interface struct {
	Name string
	// RPS is the mean request rate while traffic runs.
	RPS float64
	// Median and Sigma define the lognormal latency distribution.
	Median time.Duration
	Sigma  float64
	// BusinessFailure is the share of system-ok requests whose business
	// code fails; SystemFailure the share of completed requests that fail
	// in transport or status; Dropped the share of scheduled never sent.
	BusinessFailure, SystemFailure, Dropped float64
	Changes                                 []Change
}

// Config is a whole history.
type Config struct {
	// Start and End bound the history (days in Location).
	Start, End time.Time
	Location   *time.Location
	Interfaces []Interface
	Seed       uint64
	// Traffic is one run a day of RunDuration from RunHour (run_id
	// "nightly-YYYY-MM-DD"), sampled every Interval, as a monthly or
	// nightly load test leaves it. Continuous instead runs all day
	// (run_id "continuous") with a daily rate pattern.
	RunDuration time.Duration
	RunHour     int
	Interval    time.Duration
	Continuous  bool
	// DayNoise is the standard deviation of the daily log-latency noise;
	// FailureNoise the relative day-to-day spread of failure ratios.
	DayNoise, FailureNoise float64
	// DayNoiseAR makes that day-to-day noise autocorrelated: each day's
	// noise is AR(1) with this coefficient (0 = independent days, 0.9 =
	// a slow wander), with the same standard deviation.
	DayNoiseAR float64
	// Weekly is the weekend effect: rate lower and latency lower by this share.
	Weekly float64
	// MonthEnd is a month-end effect: latency higher by this share on the
	// last three days of each month (batch jobs, billing runs).
	MonthEnd float64
	// MissingDays is the probability that a day has no data at all.
	MissingDays float64
	// Warmup, when set, adds a warm-up phase of this length to each run
	// with much slower requests, which the analyzer must ignore.
	Warmup time.Duration
}

// Defaults fills unset fields with realistic values.
func (cfg *Config) Defaults() {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.RunDuration == 0 {
		cfg.RunDuration = 10 * time.Minute
	}
	if cfg.Interval == 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.RunHour == 0 {
		cfg.RunHour = 2
	}
	if cfg.DayNoise == 0 {
		cfg.DayNoise = 0.05
	}
	if cfg.FailureNoise == 0 {
		cfg.FailureNoise = 0.15
	}
}

// Validate reports what is wrong with cfg.
func (cfg *Config) Validate() error {
	var errs []error
	if !cfg.Start.Before(cfg.End) {
		errs = append(errs, errors.New("synth: start is not before end"))
	}
	for i, in := range cfg.Interfaces {
		if in.Name == "" || in.RPS <= 0 || in.Median <= 0 || in.Sigma <= 0 {
			errs = append(errs, fmt.Errorf("synth: interfaces[%d] %q: name, rps, median and sigma are required", i, in.Name))
		}
	}
	if cfg.DayNoiseAR < 0 || cfg.DayNoiseAR >= 1 {
		errs = append(errs, fmt.Errorf("synth: day noise AR coefficient %v is not in [0, 1)", cfg.DayNoiseAR))
	}
	if !cfg.Continuous && cfg.RunDuration > 20*time.Hour {
		errs = append(errs, errors.New("synth: run duration over 20h; use Continuous"))
	}
	return errors.Join(errs...)
}

// DayState is the true behaviour of one interface on one day.
type DayState struct {
	Date    time.Time
	Present bool
	// Start and End bound the traffic of the day.
	Start, End time.Time
	// RPS is the request rate; Median and Sigma the lognormal latency.
	RPS           float64
	Median, Sigma float64 // seconds
	// BusinessFailure, SystemFailure and Dropped are the day's ratios.
	BusinessFailure, SystemFailure, Dropped float64
}

// Quantile is the day's true latency quantile in seconds.
func (d DayState) Quantile(q float64) float64 {
	return d.Median * math.Exp(d.Sigma*math.Sqrt2*math.Erfinv(2*q-1))
}

// CDF is the share of the day's requests faster than x seconds.
func (d DayState) CDF(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return 0.5 * math.Erfc(-(math.Log(x/d.Median))/(d.Sigma*math.Sqrt2))
}

// Days returns every interface's day states, in day order. The same
// config always yields the same days.
func (cfg Config) Days() map[string][]DayState {
	cfg.Defaults()
	out := map[string][]DayState{}
	for ii, in := range cfg.Interfaces {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(ii)+1))
		// AR(1) states of the latency, business and system noise,
		// stationary from the first day.
		phi := cfg.DayNoiseAR
		innov := math.Sqrt(1 - phi*phi)
		var ar [3]float64
		first := true
		start := time.Date(cfg.Start.In(cfg.Location).Year(), cfg.Start.In(cfg.Location).Month(), cfg.Start.In(cfg.Location).Day(), 0, 0, 0, 0, cfg.Location)
		for day := start; day.Before(cfg.End); day = day.AddDate(0, 0, 1) {
			d := DayState{Date: day, Sigma: in.Sigma}
			// draw every random number each day, so that changing one
			// knob does not reshuffle the rest of the history.
			missing := rng.Float64() < cfg.MissingDays
			noise := rng.NormFloat64()
			bfNoise, sfNoise, rateNoise := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
			if phi > 0 {
				for i, z := range [3]float64{noise, bfNoise, sfNoise} {
					if first {
						ar[i] = z
					} else {
						ar[i] = phi*ar[i] + innov*z
					}
				}
				first = false
				noise, bfNoise, sfNoise = ar[0], ar[1], ar[2]
			}
			if missing {
				out[in.Name] = append(out[in.Name], d)
				continue
			}
			d.Present = true
			if cfg.Continuous {
				d.Start, d.End = day, day.AddDate(0, 0, 1)
			} else {
				d.Start = day.Add(time.Duration(cfg.RunHour) * time.Hour)
				d.End = d.Start.Add(cfg.RunDuration)
			}
			mid := d.Start.Add(d.End.Sub(d.Start) / 2)
			weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
			d.RPS = in.RPS * math.Exp(0.03*rateNoise)
			d.Median = in.Median.Seconds() * math.Exp(cfg.DayNoise*noise)
			if weekend {
				d.RPS *= 1 - cfg.Weekly
				d.Median *= 1 - cfg.Weekly/2
			}
			if cfg.MonthEnd > 0 && day.AddDate(0, 0, 3).Month() != day.Month() {
				d.Median *= 1 + cfg.MonthEnd
			}
			d.BusinessFailure = in.BusinessFailure * math.Exp(cfg.FailureNoise*bfNoise)
			d.SystemFailure = in.SystemFailure * math.Exp(cfg.FailureNoise*sfNoise)
			d.Dropped = in.Dropped
			for _, ch := range in.Changes {
				l := ch.level(mid)
				switch ch.Kind {
				case LatencyStep, LatencyCreep:
					d.Median *= 1 + ch.Size*l
				case BusinessDip:
					d.BusinessFailure += ch.Size * l
				case SystemDip:
					d.SystemFailure += ch.Size * l
				}
			}
			d.BusinessFailure = math.Min(1, d.BusinessFailure)
			d.SystemFailure = math.Min(1, d.SystemFailure)
			out[in.Name] = append(out[in.Name], d)
		}
	}
	return out
}

// AppendFunc receives one sample; samples of a series come in time order.
type AppendFunc func(ls labels.Labels, t int64, v float64) error

// Generate emits every sample of the history.
func (cfg Config) Generate(fn AppendFunc) error {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	buckets := c.DurationBuckets()
	all := cfg.Days()
	for _, in := range cfg.Interfaces {
		var st *dayState // continuous traffic carries its counters from day to day
		for _, d := range all[in.Name] {
			if !d.Present {
				continue
			}
			runID := "nightly-" + d.Date.Format(time.DateOnly)
			if cfg.Continuous {
				runID = "continuous"
			}
			if st == nil || !cfg.Continuous {
				st = cfg.newState(in.Name, runID, len(buckets))
			}
			if err := cfg.emitDay(fn, st, d, buckets); err != nil {
				return err
			}
		}
	}
	return nil
}

// dayState is one run's series and cumulative counter values.
type dayState struct {
	series            *series.Interface
	phases            []string
	ps                map[string]*phaseSeries
	schedCum, dropCum float64
	// started: a continuous run's next day adds requests from its first sample.
	started bool
}

func (cfg Config) newState(name, runID string, nBuckets int) *dayState {
	st := &dayState{series: series.New(runID, name), phases: []string{c.PhaseSteady}, ps: map[string]*phaseSeries{}}
	if cfg.Warmup > 0 {
		st.phases = append(st.phases, c.PhaseWarmup)
	}
	for _, ph := range st.phases {
		s := &phaseSeries{}
		for o := range c.Outcomes {
			s.bcum[o] = make([]float64, nBuckets)
			s.out.Buckets[o] = make([]float64, nBuckets+1)
		}
		st.ps[ph] = s
	}
	return st
}

// phaseSeries holds one interface-day's cumulative values of one phase.
type phaseSeries struct {
	cum  [3]float64
	bcum [3][]float64
	sum  [3]float64
	out  series.Outcomes // what is written, floored
}

func (cfg Config) emitDay(fn AppendFunc, st *dayState, d DayState, buckets []float64) error {
	phases, ps := st.phases, st.ps
	// The CDF at each bound, once per day: latency varies by day.
	cdf := make([]float64, len(buckets))
	for i, b := range buckets {
		cdf[i] = d.CDF(b)
	}
	warmCDF := make([]float64, len(buckets))
	slow := d
	slow.Median *= 10
	for i, b := range buckets {
		warmCDF[i] = slow.CDF(b)
	}
	meanLat := d.Median * math.Exp(d.Sigma*d.Sigma/2)
	shares := [3]float64{
		(1 - d.SystemFailure) * (1 - d.BusinessFailure),
		(1 - d.SystemFailure) * d.BusinessFailure,
		d.SystemFailure,
	}
	step := cfg.Interval
	end := d.End
	if cfg.Continuous { // the next day starts at End
		end = end.Add(-step)
	}
	for t := d.Start; !t.After(end); t = t.Add(step) {
		ms := t.UnixMilli()
		phase := c.PhaseSteady
		if cfg.Warmup > 0 && t.Sub(d.Start) <= cfg.Warmup && t != d.Start {
			phase = c.PhaseWarmup
		}
		if t != d.Start || st.started {
			rate := d.RPS
			if cfg.Continuous { // busier afternoons, quiet nights
				h := float64(t.In(cfg.Location).Hour()) + float64(t.Minute())/60
				rate *= 1 + 0.6*math.Cos((h-14)/24*2*math.Pi)
			}
			n := rate * step.Seconds()
			st.schedCum += n
			st.dropCum += n * d.Dropped
			done := n * (1 - d.Dropped)
			s := ps[phase]
			pc, ml := cdf, meanLat
			if phase == c.PhaseWarmup {
				pc, ml = warmCDF, meanLat*10
			}
			for o := range 3 {
				k := done * shares[o]
				s.cum[o] += k
				s.sum[o] += k * ml
				for i := range buckets {
					s.bcum[o][i] += k * pc[i]
				}
			}
		}
		app := series.AppendFunc(fn)
		if err := st.series.AppendSchedule(app, ms, c.PhaseSteady, math.Floor(st.schedCum), math.Floor(st.dropCum)); err != nil {
			return err
		}
		for _, ph := range phases {
			s := ps[ph]
			for o := range 3 {
				total := math.Floor(s.cum[o])
				s.out.Requests[o], s.out.Sum[o] = total, s.sum[o]
				for i := range buckets {
					s.out.Buckets[o][i] = math.Min(total, math.Floor(s.bcum[o][i]))
				}
				s.out.Buckets[o][len(buckets)] = total // +Inf
			}
			if err := st.series.AppendOutcomes(app, ms, ph, &s.out); err != nil {
				return err
			}
		}
	}
	st.started = cfg.Continuous
	return nil
}
