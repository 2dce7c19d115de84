package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
)

// JTL columns the reader needs; JMeter writes more, which are ignored.
const (
	jtlTimeStamp    = "timeStamp"
	jtlElapsed      = "elapsed"
	jtlLabel        = "label"
	jtlResponseCode = "responseCode"
	jtlSuccess      = "success"
	jtlMessage      = "responseMessage"
	jtlFailure      = "failureMessage"
)

// JTLReader reads a JMeter CSV result file (JTL) with its header row.
//
// Classification, per row:
//   - responseCode a number in Expected: system ok; then success=true is a
//     success and success=false (a failed assertion) a business failure
//     (reason business_code);
//   - responseCode a number not in Expected: system failure (http_4xx,
//     http_5xx, http_other);
//   - responseCode not a number ("Non HTTP response code: java.net...."):
//     system failure, reason from the exception name (timeout,
//     connection_refused, connection_reset, dns, tls, transport_other);
//   - responseCode empty (transaction controller samples): success or
//     business failure by the success column.
type JTLReader struct {
	file     string
	r        *csv.Reader
	namer    *Namer
	expected StatusSet
	col      map[string]int
	width    int
	// now is the clock rows are checked against (tests set it).
	now func() time.Time
}

// NewJTLReader reads the header row of r. file names the input in errors.
func NewJTLReader(file string, r io.Reader, namer *Namer, expected StatusSet) (*JTLReader, error) {
	cr := csv.NewReader(newLineCap(r))
	cr.ReuseRecord = true
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file, want a JTL CSV header row", file)
		}
		return nil, fmt.Errorf("%s:1: header: %w", file, err)
	}
	j := &JTLReader{file: file, r: cr, namer: namer, expected: expected, col: map[string]int{}, width: len(header), now: time.Now}
	for i, h := range header {
		j.col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	var missing []string
	for _, c := range []string{jtlTimeStamp, jtlElapsed, jtlLabel, jtlResponseCode, jtlSuccess} {
		if _, ok := j.col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: header lacks column(s) %s (is this a JTL CSV with a header row?)", file, strings.Join(missing, ", "))
	}
	return j, nil
}

// Next returns the next record.
func (j *JTLReader) Next() (Record, error) {
	row, err := j.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Record{}, &RowError{File: j.file, Line: pe.Line, Err: pe.Err}
		}
		return Record{}, fmt.Errorf("%s: read: %w", j.file, err)
	}
	line, _ := j.r.FieldPos(0)
	if len(row) == 1 && isTooLong([]byte(row[0])) {
		return Record{}, &RowError{File: j.file, Line: line, Err: fmt.Errorf("line longer than %d bytes", MaxLine)}
	}
	if len(row) != j.width {
		return Record{}, &RowError{File: j.file, Line: line, Err: fmt.Errorf("%d fields, header has %d", len(row), j.width)}
	}
	get := func(c string) string {
		if i, ok := j.col[c]; ok {
			return row[i]
		}
		return ""
	}
	ms, err := strconv.ParseInt(get(jtlTimeStamp), 10, 64)
	if err != nil || ms <= 0 {
		return Record{}, &RowError{File: j.file, Line: line, Field: jtlTimeStamp, Err: fmt.Errorf("%q is not epoch milliseconds", get(jtlTimeStamp))}
	}
	elapsed, err := strconv.ParseInt(get(jtlElapsed), 10, 64)
	if err != nil || elapsed < 0 {
		return Record{}, &RowError{File: j.file, Line: line, Field: jtlElapsed, Err: fmt.Errorf("%q is not a non-negative number of milliseconds", get(jtlElapsed))}
	}
	if elapsed > longestRequest.Milliseconds() {
		return Record{}, &RowError{File: j.file, Line: line, Field: jtlElapsed, Err: fmt.Errorf("%d ms is longer than %s: not a latency", elapsed, longestRequest)}
	}
	if msg := checkTimes(time.UnixMilli(ms), time.Duration(elapsed)*time.Millisecond, j.now()); msg != "" {
		return Record{}, &RowError{File: j.file, Line: line, Field: jtlTimeStamp, Err: errors.New(msg)}
	}
	label := get(jtlLabel)
	if label == "" {
		return Record{}, &RowError{File: j.file, Line: line, Field: jtlLabel, Err: errors.New("empty")}
	}
	var ok bool
	switch strings.ToLower(get(jtlSuccess)) {
	case "true":
		ok = true
	case "false":
	default:
		return Record{}, &RowError{File: j.file, Line: line, Field: jtlSuccess, Err: fmt.Errorf("%q is not true or false", get(jtlSuccess))}
	}
	rec := Record{
		Done:      time.UnixMilli(ms + elapsed),
		Interface: j.namer.Name(label),
		Latency:   time.Duration(elapsed) * time.Millisecond,
	}
	code := strings.TrimSpace(get(jtlResponseCode))
	n, numErr := strconv.Atoi(code)
	switch {
	case code == "" || (numErr == nil && j.expected.Has(n)):
		if ok {
			rec.Outcome = conventions.OutcomeSuccess
		} else {
			rec.Outcome, rec.Reason = conventions.OutcomeBusinessFailure, conventions.ReasonBusinessCode
		}
	case numErr == nil:
		rec.Outcome, rec.Reason = conventions.OutcomeSystemFailure, httpReason(n)
	default:
		rec.Outcome = conventions.OutcomeSystemFailure
		rec.Reason = transportReason(code + " " + get(jtlMessage) + " " + get(jtlFailure))
	}
	return rec, nil
}
