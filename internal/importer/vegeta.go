package importer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
)

// vegetaResult is the part of a `vegeta encode --to json` line we read.
type vegetaResult struct {
	Code      *int      `json:"code"`
	Timestamp time.Time `json:"timestamp"`
	Latency   *int64    `json:"latency"` // nanoseconds
	Error     string    `json:"error"`
	URL       string    `json:"url"`
}

// VegetaReader reads vegeta results as JSON lines. The interface comes
// from the URL through the map rules (matched against the whole URL), or,
// without a matching rule, from the sanitised URL path. vegeta knows
// nothing of business codes: its results are successes or system failures
// (an error, status 0, or a status not in Expected).
type VegetaReader struct {
	file     string
	sc       *bufio.Scanner
	line     int
	namer    *Namer
	expected StatusSet
	// now is the clock rows are checked against (tests set it).
	now func() time.Time
}

// NewVegetaReader reads r. file names the input in errors.
func NewVegetaReader(file string, r io.Reader, namer *Namer, expected StatusSet) *VegetaReader {
	sc := bufio.NewScanner(newLineCap(r))
	sc.Buffer(make([]byte, 64<<10), MaxLine+len(tooLong)) // lineCap cuts longer lines
	return &VegetaReader{file: file, sc: sc, namer: namer, expected: expected, now: time.Now}
}

// Next returns the next record.
func (v *VegetaReader) Next() (Record, error) {
	for v.sc.Scan() {
		v.line++
		b := v.sc.Bytes()
		if len(b) == 0 {
			continue
		}
		if isTooLong(b) {
			return Record{}, &RowError{File: v.file, Line: v.line, Err: fmt.Errorf("line longer than %d bytes", MaxLine)}
		}
		var r vegetaResult
		if err := json.Unmarshal(b, &r); err != nil {
			return Record{}, &RowError{File: v.file, Line: v.line, Err: fmt.Errorf("not a vegeta JSON result: %w", err)}
		}
		switch {
		case r.Timestamp.IsZero():
			return Record{}, &RowError{File: v.file, Line: v.line, Field: "timestamp", Err: errors.New("missing")}
		case r.Latency == nil || *r.Latency < 0:
			return Record{}, &RowError{File: v.file, Line: v.line, Field: "latency", Err: errors.New("missing or negative")}
		case r.Code == nil:
			return Record{}, &RowError{File: v.file, Line: v.line, Field: "code", Err: errors.New("missing")}
		case r.URL == "":
			return Record{}, &RowError{File: v.file, Line: v.line, Field: "url", Err: errors.New("missing")}
		}
		lat := time.Duration(*r.Latency)
		if msg := checkTimes(r.Timestamp, lat, v.now()); msg != "" {
			return Record{}, &RowError{File: v.file, Line: v.line, Field: "timestamp", Err: errors.New(msg)}
		}
		rec := Record{Done: r.Timestamp.Add(lat), Latency: lat, Interface: v.namer.Name(v.rawName(r.URL))}
		switch {
		case r.Error != "" && (*r.Code == 0 || !v.expected.Has(*r.Code)):
			rec.Outcome, rec.Reason = conventions.OutcomeSystemFailure, transportReason(r.Error)
			if *r.Code != 0 {
				rec.Reason = httpReason(*r.Code)
			}
		case *r.Code == 0:
			rec.Outcome, rec.Reason = conventions.OutcomeSystemFailure, conventions.ReasonTransport
		case !v.expected.Has(*r.Code):
			rec.Outcome, rec.Reason = conventions.OutcomeSystemFailure, httpReason(*r.Code)
		default:
			rec.Outcome = conventions.OutcomeSuccess
		}
		return rec, nil
	}
	if err := v.sc.Err(); err != nil {
		return Record{}, fmt.Errorf("%s:%d: read: %w", v.file, v.line+1, err)
	}
	return Record{}, io.EOF
}

// rawName is what map rules match: the whole URL when rules exist, else
// the path, which is then sanitised.
func (v *VegetaReader) rawName(raw string) string {
	if len(v.namer.Rules) > 0 {
		for _, r := range v.namer.Rules {
			if r.Pattern.MatchString(raw) {
				return raw
			}
		}
	}
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		return u.Path
	}
	return raw
}
