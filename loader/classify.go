package loader

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader/scenario"
)

// classifier decides the outcome of one response of one interface.
type classifier struct {
	status   [600]bool // expected HTTP statuses
	jsonPath []string
	equals   map[string]bool
	regex    *regexp.Regexp
	business bool
}

func newClassifier(e *scenario.Expect) *classifier {
	c := &classifier{}
	if e == nil || len(e.Status) == 0 {
		for s := 200; s < 300; s++ {
			c.status[s] = true
		}
	} else {
		for _, s := range e.Status {
			if s >= 0 && s < len(c.status) {
				c.status[s] = true
			}
		}
	}
	if e == nil || e.Business == nil {
		return c
	}
	b := e.Business
	c.business = true
	if b.JSON != "" {
		c.jsonPath = strings.Split(b.JSON, ".")
	}
	if b.Equals != nil || len(b.In) > 0 {
		c.equals = map[string]bool{}
		if b.Equals != nil {
			c.equals[*b.Equals] = true
		}
		for _, v := range b.In {
			c.equals[v] = true
		}
	}
	if b.Regex != "" {
		c.regex = regexp.MustCompile(b.Regex) // validated when the scenario loaded
	}
	return c
}

// classify returns the outcome, the failure reason and the business code
// of a response. code is the HTTP status, 0 when the transport failed with
// errText.
func (c *classifier) classify(code uint16, errText string, body []byte) (Outcome, string, string) {
	if code == 0 {
		return SystemFailure, transportReason(errText), ""
	}
	if int(code) >= len(c.status) || !c.status[code] {
		switch {
		case code >= 500:
			return SystemFailure, conventions.ReasonHTTP5xx, ""
		case code >= 400:
			return SystemFailure, conventions.ReasonHTTP4xx, ""
		default:
			return SystemFailure, conventions.ReasonHTTPOther, ""
		}
	}
	if !c.business {
		return Success, "", ""
	}
	if c.jsonPath == nil { // regex on the whole body
		if c.regex.Match(body) {
			return Success, "", ""
		}
		return BusinessFailure, conventions.ReasonBusinessCode, ""
	}
	bc, ok := jsonField(body, c.jsonPath)
	if !ok {
		return BusinessFailure, conventions.ReasonBodyUnparsable, ""
	}
	if (c.equals != nil && c.equals[bc]) || (c.regex != nil && c.regex.MatchString(bc)) {
		return Success, "", bc
	}
	return BusinessFailure, conventions.ReasonBusinessCode, bc
}

// transportReason maps a transport error to a bounded reason. The error
// text is never used as a label: it carries URLs and addresses.
func transportReason(errText string) string {
	e := strings.ToLower(errText)
	switch {
	case strings.Contains(e, "timeout"), strings.Contains(e, "deadline exceeded"):
		return conventions.ReasonTimeout
	case strings.Contains(e, "connection refused"):
		return conventions.ReasonConnectionRefused
	case strings.Contains(e, "connection reset"), strings.Contains(e, "broken pipe"),
		strings.Contains(e, "eof"), strings.Contains(e, "server closed"):
		return conventions.ReasonConnectionReset
	case strings.Contains(e, "no such host"), strings.Contains(e, "lookup "):
		return conventions.ReasonDNS
	case strings.Contains(e, "tls"), strings.Contains(e, "x509"), strings.Contains(e, "certificate"):
		return conventions.ReasonTLS
	default:
		return conventions.ReasonTransport
	}
}

// jsonField reads the scalar at a dotted path of a JSON object body as a
// string: strings as they are, numbers and booleans as written. A body
// that is not valid JSON as a whole has no field: a response cut short or
// garbled after its code is not a business success.
func jsonField(body []byte, path []string) (string, bool) {
	if !json.Valid(body) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for depth, key := range path {
		tok, err := dec.Token()
		if err != nil || tok != json.Delim('{') {
			return "", false
		}
		found := false
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return "", false
			}
			if ks, _ := k.(string); ks == key {
				found = true
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", false
			}
		}
		if !found {
			return "", false
		}
		if depth < len(path)-1 {
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return "", false
		}
		switch v := tok.(type) {
		case string:
			return v, true
		case json.Number:
			return v.String(), true
		case bool:
			return strconv.FormatBool(v), true
		default:
			return "", false
		}
	}
	return "", false
}
