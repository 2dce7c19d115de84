package demotarget

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Endpoint is one business interface of the demo service.
type Endpoint struct {
	Path   string
	Method string // "" accepts any
	// Median latency; the spread is log-normal with Sigma.
	Median time.Duration
	Sigma  float64
	// SystemErrorRate is the share of requests answered 503;
	// BusinessErrorRate the share of the others answered 200 with
	// BusinessErrorCode.
	SystemErrorRate   float64
	BusinessErrorRate float64
	BusinessErrorCode string
}

// Endpoints are the demo interfaces, matching examples/*.yml.
func Endpoints() []Endpoint {
	return []Endpoint{
		{Path: "/api/balance", Method: http.MethodGet, Median: 8 * time.Millisecond, Sigma: 0.35, SystemErrorRate: 0.001, BusinessErrorRate: 0.005, BusinessErrorCode: "1001"},
		{Path: "/api/bill", Method: http.MethodGet, Median: 15 * time.Millisecond, Sigma: 0.4, SystemErrorRate: 0.001, BusinessErrorRate: 0.01, BusinessErrorCode: "2002"},
		{Path: "/api/recharge", Method: http.MethodPost, Median: 25 * time.Millisecond, Sigma: 0.5, SystemErrorRate: 0.002, BusinessErrorRate: 0.02, BusinessErrorCode: "3003"},
	}
}

// Options override every endpoint's normal behaviour; zero values keep
// each endpoint's own.
type Options struct {
	// Latency is the median latency of every endpoint.
	Latency time.Duration
	// Jitter is the typical spread around Latency: latencies are
	// log-normal with sigma ln(1 + Jitter/Latency), so about two thirds
	// fall within Latency/(1+r) .. Latency*(1+r), r = Jitter/Latency.
	Jitter time.Duration
	// SystemFailureRatio is the share of requests answered HTTP 503;
	// BusinessFailureRatio the share of the others answered with a
	// failing business code: the two ratios perfbase reports.
	SystemFailureRatio   *float64
	BusinessFailureRatio *float64
}

// Validate reports impossible settings.
func (o Options) Validate() error {
	var errs []error
	if o.Latency < 0 || o.Jitter < 0 {
		errs = append(errs, errors.New("demotarget: latency and jitter must not be negative"))
	}
	if o.Jitter > 0 && o.Latency == 0 {
		errs = append(errs, errors.New("demotarget: jitter needs a latency"))
	}
	for name, v := range map[string]*float64{"system failure ratio": o.SystemFailureRatio, "business failure ratio": o.BusinessFailureRatio} {
		if v != nil && (*v < 0 || *v > 1 || math.IsNaN(*v)) {
			errs = append(errs, fmt.Errorf("demotarget: %s %g must be in [0, 1]", name, *v))
		}
	}
	return errors.Join(errs...)
}

// Degradation changes the service at run time.
type Degradation struct {
	// Slowdown multiplies every latency (1 = healthy).
	Slowdown float64 `json:"slowdown"`
	// ExtraSystemErrors and ExtraBusinessErrors add to each endpoint's rates.
	ExtraSystemErrors   float64 `json:"extra_system_errors"`
	ExtraBusinessErrors float64 `json:"extra_business_errors"`
}

// Validate reports impossible settings.
func (d Degradation) Validate() error {
	var errs []error
	if d.Slowdown <= 0 || math.IsNaN(d.Slowdown) || d.Slowdown > 1000 {
		errs = append(errs, fmt.Errorf("demotarget: slowdown %g must be in (0, 1000]", d.Slowdown))
	}
	for name, v := range map[string]float64{"extra_system_errors": d.ExtraSystemErrors, "extra_business_errors": d.ExtraBusinessErrors} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			errs = append(errs, fmt.Errorf("demotarget: %s %g must be in [0, 1]", name, v))
		}
	}
	return errors.Join(errs...)
}

// Server is the demo service's handler.
type Server struct {
	// spreaders per endpoint path: failures are spread evenly rather
	// than drawn at random, so the configured ratios hold within one
	// request over any run, and tests can check them tightly.
	sysSpread, bizSpread map[string]*spreader

	mu        sync.RWMutex
	deg       Degradation
	endpoints map[string]Endpoint
	sleep     func(time.Duration)
}

// New returns a healthy demo service.
func New() *Server {
	s, _ := NewWithOptions(Options{})
	return s
}

// NewWithOptions returns a demo service whose endpoints follow o.
func NewWithOptions(o Options) (*Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Server{deg: Degradation{Slowdown: 1}, endpoints: map[string]Endpoint{}, sleep: time.Sleep,
		sysSpread: map[string]*spreader{}, bizSpread: map[string]*spreader{}}
	for _, e := range Endpoints() {
		s.sysSpread[e.Path], s.bizSpread[e.Path] = &spreader{}, &spreader{}
		if o.Latency > 0 {
			e.Median = o.Latency
			e.Sigma = math.Log1p(float64(o.Jitter) / float64(o.Latency))
		}
		if o.SystemFailureRatio != nil {
			e.SystemErrorRate = *o.SystemFailureRatio
		}
		if o.BusinessFailureRatio != nil {
			e.BusinessErrorRate = *o.BusinessFailureRatio
		}
		s.endpoints[e.Path] = e
	}
	return s, nil
}

// Degrade sets the degradation.
func (s *Server) Degrade(d Degradation) error {
	if err := d.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	s.deg = d
	s.mu.Unlock()
	return nil
}

// ServeHTTP answers the business endpoints, and /-/degrade: GET shows the
// degradation, POST with form values slowdown, extra_system_errors,
// extra_business_errors changes it.
// TestDataPath answers set-up (POST) and teardown (DELETE) requests.
const TestDataPath = "/api/test-data"

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/-/degrade" {
		s.degradeHandler(w, r)
		return
	}
	if r.URL.Path == TestDataPath {
		// Where a scenario's set-up and teardown prepare and remove their
		// test accounts (examples/parameterized.yml).
		switch r.Method {
		case http.MethodPost, http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "POST, DELETE")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
		return
	}
	e, ok := s.endpoints[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if e.Method != "" && r.Method != e.Method {
		w.Header().Set("Allow", e.Method)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.RLock()
	d := s.deg
	s.mu.RUnlock()
	lat := float64(e.Median) * math.Exp(e.Sigma*rand.NormFloat64()) * d.Slowdown
	if lat > 0 {
		s.sleep(time.Duration(lat))
	}
	w.Header().Set("Content-Type", "application/json")
	// The business ratio is among system successes, as perfbase reports it.
	switch {
	case s.sysSpread[e.Path].next(e.SystemErrorRate + d.ExtraSystemErrors):
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"unavailable"}`)
	case s.bizSpread[e.Path].next(e.BusinessErrorRate + d.ExtraBusinessErrors):
		fmt.Fprintf(w, `{"code":%q,"message":"rejected"}`, e.BusinessErrorCode)
	default:
		fmt.Fprint(w, `{"code":"0000","message":"ok"}`)
	}
}

func (s *Server) degradeHandler(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		s.mu.RLock()
		d := s.deg
		s.mu.RUnlock()
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for key, dst := range map[string]*float64{"slowdown": &d.Slowdown, "extra_system_errors": &d.ExtraSystemErrors, "extra_business_errors": &d.ExtraBusinessErrors} {
			if v := r.Form.Get(key); v != "" {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					http.Error(w, fmt.Sprintf("%s: %v", key, err), http.StatusBadRequest)
					return
				}
				*dst = f
			}
		}
		if err := s.Degrade(d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.RLock()
	d := s.deg
	s.mu.RUnlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(d) // fails only when the client went away
}

// spreader turns a ratio into evenly spaced events: next reports true for
// the requests where the running count of ratio crosses an integer, so
// after n requests exactly floor(n*ratio) or one more have been true.
type spreader struct {
	mu  sync.Mutex
	acc float64
}

func (s *spreader) next(ratio float64) bool {
	if ratio <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acc += min(ratio, 1)
	if s.acc >= 1 {
		s.acc--
		return true
	}
	return false
}
