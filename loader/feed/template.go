package feed

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Escape says where a template's text goes, and so how values are escaped.
type Escape int

const (
	// Raw puts values in as they are: header values.
	Raw Escape = iota
	// URL escapes values for a URL: as a path segment before the first
	// '?' of the template, as a query value after it.
	URL
	// JSONString escapes values as the inside of a JSON string; the
	// template writes the quotes: {"account": "{{accounts.id}}"}.
	JSONString
	// Auto is JSONString for a template that looks like JSON (starts
	// with { or [), else Raw: for request bodies.
	Auto
)

// Built-in placeholders.
const (
	BuiltinRunID = "run_id"
	BuiltinSeq   = "seq"
	BuiltinUUID  = "uuid"
)

// Ref is a column of a data set, by index.
type Ref struct{ Set, Column int }

type partKind uint8

const (
	literal partKind = iota
	field
	seq
	uuid
)

type esc uint8

const (
	escRaw esc = iota
	escPath
	escQuery
	escJSON
)

type part struct {
	kind partKind
	lit  string
	ref  Ref
	esc  esc
}

// Template is a compiled template: literal text and placeholders.
type Template struct {
	parts []part
	sets  []int
	uuid  bool
}

// Compile parses src. The run id is put in at once: it is the same for the
// whole run. resolve maps a data set and column name to a Ref, or says why
// it cannot.
func Compile(src string, e Escape, runID string, resolve func(set, column string) (Ref, error)) (*Template, error) {
	if e == Auto {
		e = Raw
		// A placeholder alone ({{...}}) is not a JSON object.
		if t := strings.TrimSpace(src); (strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "{{")) || strings.HasPrefix(t, "[") {
			e = JSONString
		}
	}
	t := &Template{}
	inQuery := false
	var lit strings.Builder
	escFor := func() esc {
		switch {
		case e == JSONString:
			return escJSON
		case e == URL && inQuery:
			return escQuery
		case e == URL:
			return escPath
		}
		return escRaw
	}
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: literal, lit: lit.String()})
			lit.Reset()
		}
	}
	seenSet := map[int]bool{}
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if e == URL && strings.Contains(rest, "?") {
				inQuery = true
			}
			lit.WriteString(rest)
			break
		}
		if e == URL && strings.Contains(rest[:i], "?") {
			inQuery = true
		}
		lit.WriteString(rest[:i])
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, errors.New("a {{ without its }}")
		}
		name := strings.TrimSpace(rest[:j])
		rest = rest[j+2:]
		ph := "{{" + name + "}}"
		switch name {
		case BuiltinRunID:
			lit.Write(appendEscaped(nil, runID, escFor()))
			continue
		case BuiltinSeq:
			flush()
			t.parts = append(t.parts, part{kind: seq})
			continue
		case BuiltinUUID:
			flush()
			t.parts = append(t.parts, part{kind: uuid})
			t.uuid = true
			continue
		}
		set, col, ok := strings.Cut(name, ".")
		if !ok || set == "" || col == "" || strings.ContainsAny(name, " {}") {
			return nil, fmt.Errorf("%s: want {{data_set.column}}, {{run_id}}, {{seq}} or {{uuid}}", ph)
		}
		ref, err := resolve(set, col)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ph, err)
		}
		flush()
		t.parts = append(t.parts, part{kind: field, ref: ref, esc: escFor()})
		if !seenSet[ref.Set] {
			seenSet[ref.Set] = true
			t.sets = append(t.sets, ref.Set)
		}
	}
	flush()
	return t, nil
}

// Static reports whether the template renders the same text every time.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.kind != literal {
			return false
		}
	}
	return true
}

// Text is what a static template renders.
func (t *Template) Text() string {
	var b strings.Builder
	for _, p := range t.parts {
		b.WriteString(p.lit)
	}
	return b.String()
}

// SizeHint is a guess of a rendering's length, to allocate it once: the
// literal text and 24 bytes a placeholder.
func (t *Template) SizeHint() int {
	n := 0
	for _, p := range t.parts {
		n += len(p.lit)
		if p.kind != literal {
			n += 24
		}
	}
	return n
}

// Sets lists the data sets the template reads, by index.
func (t *Template) Sets() []int { return t.sets }

// Values are one request's: its sequence number, the current row of each
// data set it uses, and its UUID, made on first use so that path, headers
// and body share it.
type Values struct {
	Seq  uint64
	Rows [][]string // by data set index; nil for sets the request does not use
	uuid [36]byte
	made bool
}

// Reset starts a new request's values.
func (v *Values) Reset(seq uint64) {
	v.Seq = seq
	v.made = false
}

// UUID is the request's random (version 4) UUID. It is for telling
// requests apart, not for security.
func (v *Values) UUID() []byte {
	if !v.made {
		newUUID(&v.uuid)
		v.made = true
	}
	return v.uuid[:]
}

// Render appends the template's text for v to dst.
func (t *Template) Render(dst []byte, v *Values) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		switch p.kind {
		case literal:
			dst = append(dst, p.lit...)
		case field:
			dst = appendEscaped(dst, v.Rows[p.ref.Set][p.ref.Column], p.esc)
		case seq:
			dst = appendUint(dst, v.Seq)
		case uuid:
			dst = append(dst, v.UUID()...)
		}
	}
	return dst
}

func appendUint(dst []byte, n uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

const hexDigits = "0123456789abcdef"

func newUUID(u *[36]byte) {
	var raw [16]byte
	a, b := rand.Uint64(), rand.Uint64() //nolint:gosec // request ids, not secrets
	for i := range 8 {
		raw[i], raw[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	raw[6] = raw[6]&0x0f | 0x40 // version 4
	raw[8] = raw[8]&0x3f | 0x80 // RFC 4122 variant
	j := 0
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			u[j] = '-'
			j++
		}
		u[j], u[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// appendEscaped appends s escaped for its place.
func appendEscaped(dst []byte, s string, e esc) []byte {
	switch e {
	case escPath, escQuery:
		// A value is one path segment or one query value: everything
		// but the unreserved characters is percent-encoded, '/', '&',
		// '=' and '?' included, so a value never changes the URL's shape.
		for i := 0; i < len(s); i++ {
			c := s[i]
			if unreserved(c) {
				dst = append(dst, c)
				continue
			}
			dst = append(dst, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0x0f])
		}
		return dst
	case escJSON:
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0x0f])
			default:
				dst = append(dst, c)
			}
		}
		return dst
	}
	return append(dst, s...)
}
