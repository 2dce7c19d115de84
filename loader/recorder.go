package loader

import "time"

// Outcome classifies one completed request. Every request that was sent has
// exactly one.
type Outcome uint8

const (
	// Success: transport ok, expected status, business rule ok (or none).
	Success Outcome = iota
	// BusinessFailure: transport and status ok, the body's business code failed.
	BusinessFailure
	// SystemFailure: transport error, timeout or unexpected status.
	SystemFailure
)

// NumOutcomes is the number of Outcome values, for arrays indexed by Outcome.
const NumOutcomes = 3

// String returns the outcome label value from the conventions package.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case BusinessFailure:
		return "business_failure"
	default:
		return "system_failure"
	}
}

// Observation is what the engine knows of one completed request.
type Observation struct {
	Outcome Outcome
	// Reason is a bounded failure reason (conventions.Reason*), "" on success.
	Reason string
	// Code is the business code read from the body, "" when the interface
	// has no business rule or the body had none. Its values are not
	// bounded: a recorder that labels by it must bound them.
	Code    string
	Latency time.Duration
	Warmup  bool
}

// Recorder receives the engine's measurements. The loader declares it with
// standard types only, so that it never depends on a metrics library; the
// exporter implements it. Implementations must be safe for concurrent use.
type Recorder interface {
	// Interface returns the recorder of one interface. The engine calls it
	// once per interface before any load, so implementations resolve labels
	// there and keep the per-request methods allocation-free.
	Interface(name string) InterfaceRecorder
}

// InterfaceRecorder records one interface's requests.
type InterfaceRecorder interface {
	// Sent: a scheduled request was sent (it is now in flight).
	Sent(warmup bool)
	// Dropped: n scheduled requests could not be sent on time and never will be.
	Dropped(warmup bool, n uint64)
	// Done: a sent request completed.
	Done(o Observation)
	// SetTargetRate sets the scheduled open-loop rate in requests/s (0 in
	// closed loop or when idle).
	SetTargetRate(rps float64)
	// SetUsers sets the number of closed-loop virtual users (0 in open loop).
	SetUsers(n int)
}

// NopRecorder records nothing.
type NopRecorder struct{}

// Interface implements Recorder.
func (NopRecorder) Interface(string) InterfaceRecorder { return nopInterface{} }

type nopInterface struct{}

func (nopInterface) Sent(bool)             {}
func (nopInterface) Dropped(bool, uint64)  {}
func (nopInterface) Done(Observation)      {}
func (nopInterface) SetTargetRate(float64) {}
func (nopInterface) SetUsers(int)          {}
