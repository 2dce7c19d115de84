package importer

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
)

// Record is one imported request, already classified.
type Record struct {
	// Done is when the request completed (start + latency): live runs count
	// a request when it completes, and so do imports.
	Done      time.Time
	Interface string
	Latency   time.Duration
	// Outcome is a conventions.Outcome* value.
	Outcome string
	// Reason is a conventions.Reason* value, "" on success.
	Reason string
}

// RowError is a malformed input row. Readers return it and carry on with
// the next row; the importer counts and reports it.
type RowError struct {
	File string
	Line int
	// Field names the offending column or key, "" when the row as a whole is bad.
	Field string
	Err   error
}

func (e *RowError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// Reader yields the records of one input file. Next returns io.EOF at
// the end, a *RowError for a malformed row (call Next again to go on), and
// any other error when the file cannot be read further.
type Reader interface {
	Next() (Record, error)
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// SanitizeInterface turns a JMeter label or URL path into a valid interface
// name (conventions.ValidInterfaceName): lower-case it, replace every run of other
// characters with one "_", trim "_" at both ends, prefix "i_" when it starts
// with a digit, and use "unnamed" when nothing is left.
// "GET /api/Balance (v2)" becomes "get_api_balance_v2".
func SanitizeInterface(s string) string {
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(s), "_"), "_")
	switch {
	case n == "":
		return "unnamed"
	case n[0] >= '0' && n[0] <= '9':
		return "i_" + n
	}
	return n
}

// MapRule maps input names (a JTL label, a vegeta URL) matching Pattern
// to Interface.
type MapRule struct {
	Pattern   *regexp.Regexp
	Interface string
}

// ParseMapRule reads "REGEX=interface". The interface must already be a
// valid name (conventions.ValidInterfaceName), which it is used as
// unchanged; the regex is unanchored (use ^...$ to anchor it).
func ParseMapRule(s string) (MapRule, error) {
	i := strings.LastIndex(s, "=")
	if i <= 0 || i == len(s)-1 {
		return MapRule{}, fmt.Errorf("map rule %q: want REGEX=interface", s)
	}
	re, err := regexp.Compile(s[:i])
	if err != nil {
		return MapRule{}, fmt.Errorf("map rule %q: %w", s, err)
	}
	name := s[i+1:]
	if !conventions.ValidInterfaceName(name) {
		return MapRule{}, fmt.Errorf("map rule %q: interface %q must match %s", s, name, conventions.InterfaceNamePattern)
	}
	return MapRule{Pattern: re, Interface: name}, nil
}

// Namer names interfaces: the first matching map rule wins, else the
// sanitised input.
type Namer struct {
	Rules []MapRule
	cache map[string]string
}

// Name returns the interface name of raw.
func (n *Namer) Name(raw string) string {
	if v, ok := n.cache[raw]; ok {
		return v
	}
	if n.cache == nil {
		n.cache = map[string]string{}
	}
	name := ""
	for _, r := range n.Rules {
		if r.Pattern.MatchString(raw) {
			name = r.Interface
			break
		}
	}
	if name == "" {
		name = SanitizeInterface(withoutSecrets(raw))
	}
	if len(n.cache) < 100_000 { // raw URLs may be unbounded; the names are capped elsewhere
		n.cache[raw] = name
	}
	return name
}

// StatusSet is the set of HTTP status codes counted as expected.
type StatusSet struct{ ranges [][2]int }

// ParseStatusSet reads "200-399" or "200,201,204" or a mix.
func ParseStatusSet(s string) (StatusSet, error) {
	var set StatusSet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		var lo, hi int
		if a, b, ok := strings.Cut(part, "-"); ok {
			if _, err := fmt.Sscanf(a+" "+b, "%d %d", &lo, &hi); err != nil || lo > hi {
				return StatusSet{}, fmt.Errorf("status range %q: want LOW-HIGH", part)
			}
		} else if _, err := fmt.Sscanf(part, "%d", &lo); err != nil {
			return StatusSet{}, fmt.Errorf("status %q: want a number", part)
		} else {
			hi = lo
		}
		if lo < 100 || hi > 599 {
			return StatusSet{}, fmt.Errorf("status %q: outside 100-599", part)
		}
		set.ranges = append(set.ranges, [2]int{lo, hi})
	}
	if len(set.ranges) == 0 {
		return StatusSet{}, errors.New("empty status set")
	}
	return set, nil
}

// Has reports whether code is expected.
func (s StatusSet) Has(code int) bool {
	for _, r := range s.ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// httpReason is the failure reason of an unexpected status.
func httpReason(code int) string {
	switch code / 100 {
	case 4:
		return conventions.ReasonHTTP4xx
	case 5:
		return conventions.ReasonHTTP5xx
	}
	return conventions.ReasonHTTPOther
}

// transportReason maps transport error text (Java exception names from
// JMeter, Go errors from vegeta) to a bounded reason.
func transportReason(text string) string {
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "timeout"), strings.Contains(t, "timed out"), strings.Contains(t, "deadline exceeded"):
		return conventions.ReasonTimeout
	case strings.Contains(t, "connection refused"), strings.Contains(t, "connectexception"):
		return conventions.ReasonConnectionRefused
	case strings.Contains(t, "connection reset"), strings.Contains(t, "broken pipe"), strings.Contains(t, "nohttpresponseexception"):
		return conventions.ReasonConnectionReset
	case strings.Contains(t, "unknownhost"), strings.Contains(t, "no such host"):
		return conventions.ReasonDNS
	case strings.Contains(t, "ssl"), strings.Contains(t, "tls"), strings.Contains(t, "x509"), strings.Contains(t, "handshake"):
		return conventions.ReasonTLS
	}
	return conventions.ReasonTransport
}

// withoutSecrets drops what must never become a label of an interface
// named after a URL or a JTL label: credentials in the URL's user info
// ("http://admin:PW@host") and the query string and fragment, where
// tokens travel ("?token=...").
func withoutSecrets(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		host := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			host = rest[:j]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			raw = raw[:i+3] + rest[at+1:]
		}
	}
	return raw
}

// Times of imported rows must lie in a sane window: a timestamp with a
// digit too many, the year 9999 or an elapsed time that overflows would
// put a sample centuries away and make the store refuse every later run.
var (
	oldestRow = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	// futureSkew is how far past now a row may end (clocks of the machine
	// that wrote it and of this one may disagree).
	futureSkew = 24 * time.Hour
	// longestRequest bounds one request's elapsed time.
	longestRequest = 24 * time.Hour
)

// checkTimes says what is wrong with a row's start and latency, "" when
// nothing is.
func checkTimes(start time.Time, latency time.Duration, now time.Time) string {
	switch {
	case latency > longestRequest:
		return fmt.Sprintf("a request of %s is longer than %s: not a latency", latency, longestRequest)
	case start.Before(oldestRow):
		return fmt.Sprintf("%s is before %s: not a timestamp of this file's test", start.UTC().Format(time.RFC3339), oldestRow.Format(time.DateOnly))
	case start.Add(latency).After(now.Add(futureSkew)):
		return fmt.Sprintf("%s is in the future: a digit too many?", start.UTC().Format(time.RFC3339))
	}
	return ""
}
