package runner

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/exporter"
	"github.com/perfbase/perfbase/internal/store"
	"github.com/perfbase/perfbase/loader"
	"github.com/perfbase/perfbase/loader/scenario"
)

// Options describe one run. Start from DefaultOptions.
type Options struct {
	// Scenario to run (required).
	Scenario *scenario.Scenario
	// RunID is on every series. Default: the scenario's name and the start
	// time, e.g. top-mixed-20261126T0800Z.
	RunID string
	// Shard is this loader's part of the scenario. Default 1/1.
	Shard loader.Shard
	// NativeHistograms adds native buckets to the latency histogram.
	NativeHistograms bool

	// Listen serves /metrics on this address during the run; "" disables.
	Listen string
	// Linger keeps /metrics served this long after the load.
	Linger time.Duration
	// Push sends the metrics to a Pushgateway or VictoriaMetrics; nil
	// disables. RunID and Shard are filled in.
	Push *exporter.PushOptions
	// PushTimeout bounds the final push.
	PushTimeout time.Duration

	// DB is an open embedded store to record into (the caller closes it);
	// when nil and DataDir is set, the runner opens DataDir and closes it
	// at the end. Both empty: the run is not stored.
	DB      *store.DB
	DataDir string
	// StoreInterval is how often the run's metrics are recorded.
	StoreInterval time.Duration
	// RecordRemote, when set, also sends the run's record (see
	// internal/runrecord) by remote write, for a Prometheus, Mimir or
	// VictoriaMetrics that scraped the run. The embedded store, when used,
	// always gets it.
	RecordRemote *RecordRemote
	// RecordWindow is the shortest within-run window of the record (the
	// samples a comparison of two single runs is made of). Default a
	// minute; shorter for runs of a few minutes.
	RecordWindow time.Duration

	// Progress, when set, receives a snapshot every second.
	Progress func(loader.Progress)
	// Summary is called once with the summary as soon as the load ends,
	// before the final scrape, push and linger, so that whatever fails
	// after it, the user has the summary. Its error fails the run.
	Summary func(*loader.Summary) error
	// Failures, when set, keeps samples of failed requests.
	Failures *loader.FailureSamples
	// Quit, when closed (a second Ctrl-C), ends the linger early.
	Quit <-chan struct{}
	// Logger for the lifecycle. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// RecordRemote is a remote-write endpoint for run records.
type RecordRemote struct {
	// URL of the receiver, e.g. http://prometheus:9090/api/v1/write.
	URL string
	// HTTPConfig carries auth and TLS.
	HTTPConfig config.HTTPClientConfig
}

// DefaultOptions returns the defaults `perfbase run` documents.
func DefaultOptions() Options {
	return Options{
		Shard:         loader.Shard{Index: 1, Count: 1},
		StoreInterval: 5 * time.Second,
		RecordWindow:  time.Minute,
		PushTimeout:   30 * time.Second,
		Logger:        slog.New(slog.DiscardHandler),
		Now:           time.Now,
	}
}

var runIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// validate fills the run id and checks the options; its errors are the
// user's input being wrong (nothing has been sent). They name the option
// by the `perfbase run` flag that sets it, which is how users know it.
func (o *Options) validate() error {
	var errs []error
	if o.Scenario == nil {
		return errors.New("runner: no scenario")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Shard.Count == 0 {
		o.Shard = loader.Shard{Index: 1, Count: 1}
	}
	if o.RunID == "" {
		o.RunID = o.Scenario.Name + "-" + o.Now().UTC().Format("20060102T1504Z")
	}
	if !runIDRe.MatchString(o.RunID) {
		errs = append(errs, fmt.Errorf("--run-id %q: use letters, digits and _.:- (at most 128)", o.RunID))
	}
	if (o.DB != nil || o.DataDir != "") && o.StoreInterval <= 0 {
		errs = append(errs, fmt.Errorf("--store-interval %s must be positive", o.StoreInterval))
	}
	if o.RecordWindow < time.Second {
		errs = append(errs, fmt.Errorf("--record-window %s: at least 1s", o.RecordWindow))
	}
	if o.Linger < 0 {
		errs = append(errs, fmt.Errorf("--linger %s must not be negative", o.Linger))
	}
	if o.RecordRemote != nil && o.RecordRemote.URL == "" {
		errs = append(errs, errors.New("--record-url is empty"))
	}
	if o.Push != nil && o.PushTimeout <= 0 {
		errs = append(errs, fmt.Errorf("push timeout %s must be positive", o.PushTimeout))
	}
	return errors.Join(errs...)
}

// InputError is a run refused before any load was sent: bad options, a
// port in use, a store that cannot be opened.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputError(err error) error { return &InputError{Err: err} }
