package scenario

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// position is where a field's key (or a list item) starts in the file.
type position struct{ line, col int }

// entry is one field of the file: its dotted path, where its key and its
// value are, and what the value is.
type entry struct {
	path     string
	key, val position
	tag      string
	value    string
}

// matches reports whether the entry's value is the one the decoder rejected.
func (en entry) matches(r *rejected) bool {
	if r == nil || en.tag != r.tag {
		return false
	}
	if v, cut := strings.CutSuffix(r.value, "..."); cut && len(en.value) > 10 {
		return strings.HasPrefix(en.value, v)
	}
	return en.value == r.value
}

// placeTypeError names the field of a decoding error: the one whose key
// (unknown fields) or value (bad values) is where the decoder pointed.
// The decoder gives no column for a bad value, so of the values on its line
// the first with the tag and text it quotes is chosen; entries already blamed
// for an earlier error (used) are passed over, as the decoder reports in file
// order. (Two values with the same text on one line, only the later one bad,
// are the one case this gets wrong.)
func placeTypeError(e Error, r *rejected, entries []entry, used map[string]bool) Error {
	if e.Line == 0 {
		return e
	}
	// pick blames the first entry not blamed yet whose key or value (at) is
	// on the error's line and that ok accepts.
	pick := func(at func(entry) position, ok func(entry) bool) bool {
		for _, en := range entries {
			if p := at(en); p.line == e.Line && !used[en.path] && ok(en) {
				used[en.path] = true
				e.Field, e.Column = en.path, p.col
				return true
			}
		}
		return false
	}
	key := func(en entry) position { return en.key }
	val := func(en entry) position { return en.val }
	switch name := e.Field; {
	case name != "": // unknown field: the decoder gives its name and line only
		pick(key, func(en entry) bool { return en.path == name || strings.HasSuffix(en.path, "."+name) })
	case e.Column != 0:
		pick(val, func(en entry) bool { return en.val.col == e.Column })
	case !pick(val, func(en entry) bool { return en.matches(r) }):
		pick(val, func(entry) bool { return true })
	}
	return e
}

// indexPositions lists every field of the file in document order with
// dotted paths (interfaces[0].name), and maps each path to the position of
// its key.
func indexPositions(root *yaml.Node) (keys map[string]position, entries []entry) {
	keys = map[string]position{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				keys[p] = position{k.Line, k.Column}
				entries = append(entries, entry{path: p, key: keys[p], val: position{v.Line, v.Column}, tag: v.ShortTag(), value: v.Value})
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				keys[p] = position{c.Line, c.Column}
				entries = append(entries, entry{path: p, key: keys[p], val: keys[p], tag: c.ShortTag(), value: c.Value})
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return keys, entries
}

// reporter collects the problems found after decoding, each placed at its
// field's key in the file, or at its nearest parent's when the field is not
// written there (a missing name is reported at its interface).
type reporter struct {
	file string
	keys map[string]position
	errs Errors
}

// errorf records a problem with field.
func (r *reporter) errorf(field, format string, args ...any) {
	e := Error{File: r.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	for p := field; p != ""; p = parentPath(p) {
		if at, ok := r.keys[p]; ok {
			e.Line, e.Column = at.line, at.col
			break
		}
	}
	r.errs = append(r.errs, e)
}

// isSet reports whether the file writes field, even as zero or null.
func (r *reporter) isSet(field string) bool {
	_, ok := r.keys[field]
	return ok
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}
