package feed

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Limits of a data set file: beyond them it is not test data but a
// mistake, and would cost the loader's memory.
const (
	MaxFileBytes = 1 << 30
	MaxLineBytes = 1 << 20
	MaxRows      = 10_000_000
)

var columnRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Set is a data set: named columns and rows of string values.
type Set struct {
	columns []string
	index   map[string]int
	rows    [][]string
}

// Columns returns the column names in file order.
func (s *Set) Columns() []string { return s.columns }

// Column returns the index of a column.
func (s *Set) Column(name string) (int, bool) {
	i, ok := s.index[name]
	return i, ok
}

// Len is the number of rows.
func (s *Set) Len() int { return len(s.rows) }

// Row returns row i; the caller must not change it.
func (s *Set) Row(i int) []string { return s.rows[i] }

// LoadFile reads a data set: .csv (a header row, then one row a line) or
// .jsonl/.ndjson (one JSON object a line; the first line's keys are the
// columns). Errors name the file and the line.
func LoadFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read only: closing cannot lose data
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes: a data set file may hold at most %d", path, fi.Size(), MaxFileBytes)
	}
	var s *Set
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		s, err = readCSV(f, path)
	case ".jsonl", ".ndjson":
		s, err = readJSONL(f, path)
	default:
		return nil, fmt.Errorf("%s: unknown data set format: use .csv (with a header row) or .jsonl (one JSON object a line)", path)
	}
	if err != nil {
		return nil, err
	}
	if len(s.rows) == 0 {
		return nil, fmt.Errorf("%s: no rows: a data set needs at least one", path)
	}
	return s, nil
}

func (s *Set) setColumns(path string, line int, cols []string) error {
	s.index = make(map[string]int, len(cols))
	for i, c := range cols {
		if !columnRe.MatchString(c) {
			return fmt.Errorf("%s:%d: column %q: a column name is letters, digits and _, not starting with a digit", path, line, c)
		}
		if _, dup := s.index[c]; dup {
			return fmt.Errorf("%s:%d: column %q appears twice", path, line, c)
		}
		s.index[c] = i
	}
	s.columns = cols
	return nil
}

func (s *Set) addRow(path string, line int, row []string) error {
	if len(s.rows) >= MaxRows {
		return fmt.Errorf("%s:%d: more than %d rows", path, line, MaxRows)
	}
	s.rows = append(s.rows, row)
	return nil
}

func readCSV(r io.Reader, path string) (*Set, error) {
	cr := csv.NewReader(&lineCap{r: bufio.NewReaderSize(r, 64<<10)})
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty: a CSV data set starts with a header row", path)
		}
		return nil, csvError(path, err)
	}
	s := &Set{}
	if err := s.setColumns(path, 1, header); err != nil {
		return nil, err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		line, _ := cr.FieldPos(0)
		if err := s.addRow(path, line, rec); err != nil {
			return nil, err
		}
	}
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %w", path, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// lineCap fails a read once a line grows past MaxLineBytes, so that a file
// with no newlines cannot take the loader's memory.
type lineCap struct {
	r   *bufio.Reader
	cur int
}

func (l *lineCap) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > MaxLineBytes {
			return 0, fmt.Errorf("a line longer than %d bytes", MaxLineBytes)
		}
	}
	return n, err
}

func readJSONL(r io.Reader, path string) (*Set, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	s := &Set{}
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		keys, vals, err := jsonObject(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if s.columns == nil {
			if err := s.setColumns(path, line, keys); err != nil {
				return nil, err
			}
		}
		row := make([]string, len(s.columns))
		seen := 0
		for i, k := range keys {
			c, ok := s.index[k]
			if !ok {
				return nil, fmt.Errorf("%s:%d: key %q is not a column of the first line (%s)", path, line, k, strings.Join(s.columns, ", "))
			}
			row[c] = vals[i]
			seen++
		}
		if seen != len(s.columns) {
			return nil, fmt.Errorf("%s:%d: %d of the %d columns of the first line (%s)", path, line, seen, len(s.columns), strings.Join(s.columns, ", "))
		}
		if err := s.addRow(path, line, row); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return s, nil
}

// jsonObject reads one object's keys, in order, and values as text:
// strings as they are, numbers as written, true/false, null as "", and
// objects or arrays as compact JSON.
func jsonObject(text []byte) (keys, vals []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("bad JSON: %w", err)
		}
		k, _ := tok.(string)
		if seen[k] {
			return nil, nil, fmt.Errorf("key %q appears twice", k)
		}
		seen[k] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("key %q: bad JSON: %w", k, err)
		}
		v, err := jsonText(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("key %q: %w", k, err)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("bad JSON: %w", err)
	}
	if dec.More() {
		return nil, nil, errors.New("more than one JSON value on the line")
	}
	return keys, vals, nil
}

func jsonText(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case 'n':
		return "", nil
	case '{', '[':
		var b bytes.Buffer
		err := json.Compact(&b, raw)
		return b.String(), err
	case 't', 'f':
		return string(raw), nil
	default:
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return "", fmt.Errorf("bad number %s", raw)
		}
		return string(raw), nil
	}
}
