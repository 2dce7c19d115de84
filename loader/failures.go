package loader

import (
	"encoding/json"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/perfbase/perfbase/loader/scenario"
)

// redacted replaces secrets in failure samples.
const redacted = "<redacted>"

// FailureSample is one failed request as it was sent and answered, with
// secrets redacted: a line of the --failures file.
type FailureSample struct {
	Time            time.Time           `json:"time"`
	Interface       string              `json:"interface"`
	Reason          string              `json:"reason"`
	Method          string              `json:"method"`
	URL             string              `json:"url"`
	RequestHeaders  map[string][]string `json:"request_headers,omitempty"`
	RequestBody     string              `json:"request_body,omitempty"`
	Status          int                 `json:"status,omitempty"`
	Error           string              `json:"error,omitempty"`
	ResponseHeaders map[string][]string `json:"response_headers,omitempty"`
	// ResponseBody is the first KiB of the body.
	ResponseBody   string  `json:"response_body,omitempty"`
	LatencySeconds float64 `json:"latency_seconds"`
}

// FailureSamples keeps a bounded sample of failed requests: per interface
// and failure reason the first PerKind, and a uniform reservoir of PerKind
// of the rest. Safe for concurrent use; only failures take its lock.
type FailureSamples struct {
	perKind int
	secrets []string

	mu    sync.Mutex
	kinds map[[2]string]*sampleKind
}

type sampleKind struct {
	seen      int
	first     []FailureSample
	reservoir []FailureSample
}

// NewFailureSamples keeps perKind first and perKind sampled failures per
// interface and reason; the scenario's secrets (its ${VAR} values) and
// sensitive headers are redacted.
func NewFailureSamples(perKind int, s *scenario.Scenario) *FailureSamples {
	return &FailureSamples{perKind: max(perKind, 1), secrets: s.Secrets, kinds: map[[2]string]*sampleKind{}}
}

func (f *FailureSamples) offer(iface, reason, method string, r *response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.kinds[[2]string{iface, reason}]
	if k == nil {
		k = &sampleKind{}
		f.kinds[[2]string{iface, reason}] = k
	}
	k.seen++
	switch {
	case len(k.first) < f.perKind:
		k.first = append(k.first, f.sample(iface, reason, method, r))
	case len(k.reservoir) < f.perKind:
		k.reservoir = append(k.reservoir, f.sample(iface, reason, method, r))
	default:
		// Reservoir sampling over the failures after the first ones.
		if j := rand.IntN(k.seen - f.perKind); j < f.perKind { //nolint:gosec // sampling, not security
			k.reservoir[j] = f.sample(iface, reason, method, r)
		}
	}
}

func (f *FailureSamples) sample(iface, reason, method string, r *response) FailureSample {
	s := FailureSample{
		Time: time.Now().UTC(), Interface: iface, Reason: reason, Method: method,
		Status: r.code, LatencySeconds: r.latency.Seconds(),
		ResponseHeaders: f.headers(r.header),
	}
	if r.err != nil {
		s.Error = f.redact(r.err.Error())
	}
	if r.req != nil {
		s.URL = f.redact(r.req.url)
		s.RequestHeaders = f.headers(r.req.header)
		s.RequestBody = f.redact(string(r.req.body))
	}
	if len(r.body) > 0 {
		s.ResponseBody = f.redact(string(r.body[:min(len(r.body), sampleBody)]))
	}
	return s
}

func (f *FailureSamples) headers(h http.Header) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if scenario.IsSensitiveHeader(k) {
			out[k] = []string{redacted}
			continue
		}
		red := make([]string, len(vs))
		for i, v := range vs {
			red[i] = f.redact(v)
		}
		out[k] = red
	}
	return out
}

// redact removes the scenario's secrets and URL passwords from text.
func (f *FailureSamples) redact(text string) string {
	for _, s := range f.secrets {
		if len(s) >= 3 { // shorter values would redact ordinary text
			text = strings.ReplaceAll(text, s, redacted)
		}
	}
	if i := strings.Index(text, "://"); i >= 0 {
		if at := strings.IndexByte(text[i+3:], '@'); at >= 0 && !strings.ContainsAny(text[i+3:i+3+at], "/?#") {
			text = text[:i+3] + redacted + text[i+3+at:]
		}
	}
	return text
}

// Samples returns the kept samples, by interface, reason and time.
func (f *FailureSamples) Samples() []FailureSample {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []FailureSample
	for _, key := range slices.SortedFunc(maps.Keys(f.kinds), func(a, b [2]string) int {
		return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1])
	}) {
		k := f.kinds[key]
		kept := slices.Concat(k.first, k.reservoir)
		slices.SortFunc(kept, func(a, b FailureSample) int { return a.Time.Compare(b.Time) })
		out = append(out, kept...)
	}
	return out
}

// WriteJSONLines writes the samples, one JSON object a line.
func (f *FailureSamples) WriteJSONLines(w io.Writer) (int, error) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // URLs and bodies as they were, & and < included
	samples := f.Samples()
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			return 0, err
		}
	}
	return len(samples), nil
}
