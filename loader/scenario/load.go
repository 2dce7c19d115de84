package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Load reads, decodes and validates the scenario file at path.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("could not read scenario: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a scenario; file names it in errors. On error
// the returned error is an Errors listing every problem found.
func Parse(data []byte, file string) (*Scenario, error) {
	return parse(data, file, os.LookupEnv)
}

func parse(data []byte, file string, lookupEnv func(string) (string, bool)) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{yamlError(file, err)}
	}
	if len(root.Content) == 0 {
		return nil, Errors{{File: file, Msg: "file is empty"}}
	}
	pos, entries := indexPositions(&root)

	s := &Scenario{
		Mode: ModeMixed,
		Defaults: Defaults{
			Timeout:     Duration(DefaultTimeout),
			MaxInFlight: DefaultMaxInFlight,
			Lateness:    Duration(DefaultLateness),
			MaxBody:     DefaultMaxBody,
		},
		File: file,
	}
	var errs Errors
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, Errors{yamlError(file, err)}
		}
		used := map[string]bool{}
		for _, m := range te.Errors {
			e, r := typeError(file, m)
			errs = append(errs, placeTypeError(e, r, entries, used))
		}
	}
	// A field that could not be decoded is reported once, not again as
	// missing or zero by the validation below.
	bad := map[string]bool{}
	for _, e := range errs {
		if e.Field != "" {
			bad[e.Field] = true
		}
	}
	v := validator{file: file, pos: pos, lookupEnv: lookupEnv}
	v.validate(s)
	for _, e := range v.errs {
		if !bad[e.Field] {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			if errs[i].Line != errs[j].Line {
				return errs[i].Line < errs[j].Line
			}
			return errs[i].Column < errs[j].Column
		})
		return nil, errs
	}
	return s, nil
}

// UnmarshalYAML accepts Go durations ("1.5s") and Prometheus ones ("1d").
// A bad value is reported as a type error so that decoding goes on and every
// problem in the file is reported at once.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: column %d: want a duration such as 250ms or 1m", n.Line, n.Column)}}
	}
	if td, err := time.ParseDuration(n.Value); err == nil {
		*d = Duration(td)
		return nil
	}
	md, err := model.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: column %d: invalid duration %q: want a duration such as 250ms, 1m30s or 1d", n.Line, n.Column, n.Value)}}
	}
	*d = Duration(md)
	return nil
}

var (
	reYAMLLine   = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?:: column (\d+))?: (.*)$`)
	reNotFound   = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	reUnmarshal  = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
	reInterfaceN = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func yamlError(file string, err error) Error {
	e, _ := typeError(file, err.Error())
	return e
}

// rejected is the value a decoding error is about: its YAML tag and, for
// scalars, its text as the decoder quotes it (cut to 7 characters and "...").
type rejected struct{ tag, value string }

// typeError turns a message of the YAML decoder into an Error with a place,
// and says which value it rejected when the message tells.
func typeError(file, msg string) (Error, *rejected) {
	e := Error{File: file, Msg: msg}
	m := reYAMLLine.FindStringSubmatch(msg)
	if m == nil {
		return e, nil
	}
	e.Line, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		e.Column, _ = strconv.Atoi(m[2])
	}
	e.Msg = m[3]
	var r *rejected
	if f := reNotFound.FindStringSubmatch(e.Msg); f != nil {
		e.Field = f[1]
		e.Msg = "unknown field"
	} else if f := reUnmarshal.FindStringSubmatch(e.Msg); f != nil {
		r = &rejected{tag: "!!" + f[1], value: f[2]}
		if strings.Contains(e.Msg, "`") {
			e.Msg = fmt.Sprintf("cannot use %s %q as %s", f[1], f[2], goTypeName(f[3]))
		}
	}
	return e, r
}

func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map"):
		return "a mapping"
	default:
		return "a " + strings.TrimPrefix(t, "scenario.")
	}
}

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
	pick := func(ok func(entry) bool) bool {
		for _, en := range entries {
			if en.val.line == e.Line && !used[en.path] && ok(en) {
				used[en.path] = true
				e.Field, e.Column = en.path, en.val.col
				return true
			}
		}
		return false
	}
	if e.Field != "" { // unknown field: the decoder gives its name and line only
		for _, en := range entries {
			p := en.path
			if en.key.line == e.Line && !used[p] && (p == e.Field || strings.HasSuffix(p, "."+e.Field)) {
				used[p] = true
				e.Field, e.Column = p, en.key.col
				return e
			}
		}
		return e
	}
	switch {
	case e.Column != 0:
		pick(func(en entry) bool { return en.val.col == e.Column })
	case !pick(func(en entry) bool { return en.matches(r) }):
		pick(func(entry) bool { return true })
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

type validator struct {
	file      string
	pos       map[string]position
	lookupEnv func(string) (string, bool)
	errs      Errors
}

// errorf records a problem with field; the position is the field's, or
// that of its nearest parent that is in the file.
func (v *validator) errorf(field, format string, args ...any) {
	e := Error{File: v.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	for p := field; p != ""; p = parentPath(p) {
		if at, ok := v.pos[p]; ok {
			e.Line, e.Column = at.line, at.col
			break
		}
	}
	v.errs = append(v.errs, e)
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (v *validator) validate(s *Scenario) {
	if s.Name == "" {
		v.errorf("name", "is required")
	}
	v.validateTarget(s.Target)
	if s.Defaults.Timeout <= 0 {
		v.errorf("defaults.timeout", "must be positive")
	}
	if s.Defaults.MaxInFlight <= 0 {
		v.errorf("defaults.max_in_flight", "must be positive")
	}
	if s.Defaults.Lateness <= 0 {
		v.errorf("defaults.lateness", "must be positive")
	}
	if s.Defaults.MaxBody < 0 {
		v.errorf("defaults.max_body", "must not be negative")
	}
	s.Defaults.Headers = v.headers("defaults.headers", s.Defaults.Headers)
	if s.Defaults.Expect != nil {
		v.expect("defaults.expect", s.Defaults.Expect)
	}

	if len(s.Interfaces) == 0 {
		v.errorf("interfaces", "at least one interface is required")
	}
	seen := map[string]int{}
	for i := range s.Interfaces {
		v.iface(s, i, seen)
	}

	switch s.Mode {
	case ModeMixed, ModeConcentrated:
	default:
		v.errorf("mode", "must be %q or %q, not %q", ModeMixed, ModeConcentrated, s.Mode)
	}
	if s.Mode == ModeConcentrated && len(s.Mix) > 0 {
		v.errorf("mix", "applies to mode %q only; a concentrated run gives each interface the full rate", ModeMixed)
	}
	v.mix("mix", s.Mix, seen)

	if len(s.Stages) == 0 {
		v.errorf("stages", "at least one stage is required")
	}
	prevRate := 0.0
	for i, st := range s.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		if st.Duration <= 0 {
			v.errorf(f+".duration", "must be positive")
		}
		set := 0
		for _, b := range []bool{v.isSet(f + ".rate"), v.isSet(f + ".ramp_to"), v.isSet(f + ".users")} {
			if b {
				set++
			}
		}
		switch {
		case set == 0:
			v.errorf(f, "needs one of rate, ramp_to (open loop) or users (closed loop)")
		case set > 1:
			v.errorf(f, "sets more than one of rate, ramp_to and users")
		case v.isSet(f + ".rate"):
			if st.Rate <= 0 {
				v.errorf(f+".rate", "must be positive, not %g", st.Rate)
			}
			prevRate = st.Rate
		case v.isSet(f + ".ramp_to"):
			if st.RampTo <= 0 {
				v.errorf(f+".ramp_to", "must be positive, not %g", st.RampTo)
			}
			prevRate = st.RampTo
		case v.isSet(f + ".users"):
			if st.Users <= 0 {
				v.errorf(f+".users", "must be positive, not %d", st.Users)
			}
			prevRate = 0
		}
		_ = prevRate
		if len(st.Mix) > 0 {
			if s.Mode == ModeConcentrated {
				v.errorf(f+".mix", "applies to mode %q only", ModeMixed)
			}
			v.mix(f+".mix", st.Mix, seen)
		}
	}

	for name, th := range s.Thresholds {
		f := "thresholds." + name
		if _, ok := seen[name]; !ok && name != "*" {
			v.errorf(f, "names no interface (use \"*\" for all)")
		}
		for _, q := range []struct {
			k string
			d Duration
		}{{"p50", th.P50}, {"p90", th.P90}, {"p95", th.P95}, {"p99", th.P99}} {
			if q.d < 0 {
				v.errorf(f+"."+q.k, "must not be negative")
			}
		}
		v.ratio(f+".business_success", th.BusinessSuccess)
		v.ratio(f+".system_success", th.SystemSuccess)
		if th.MaxDropped != nil {
			v.ratio(f+".max_dropped", *th.MaxDropped)
		}
	}

	if g := s.Guard; g != nil {
		if g.MinSystemSuccess <= 0 || g.MinSystemSuccess > 1 {
			v.errorf("guard.min_system_success", "must be in (0, 1], not %g", g.MinSystemSuccess)
		}
		if g.Window == 0 {
			g.Window = Duration(10 * time.Second)
		}
		if g.Window < Duration(time.Second) {
			v.errorf("guard.window", "must be at least 1s")
		}
		if g.MinRequests == 0 {
			g.MinRequests = 20
		}
		if g.MinRequests < 0 {
			v.errorf("guard.min_requests", "must be positive")
		}
	}
}

func (v *validator) isSet(path string) bool {
	_, ok := v.pos[path]
	return ok
}

func (v *validator) ratio(field string, r float64) {
	if r < 0 || r > 1 {
		v.errorf(field, "is a ratio and must be in [0, 1], not %g", r)
	}
}

func (v *validator) validateTarget(target string) {
	if target == "" {
		v.errorf("target", "is required, e.g. http://127.0.0.1:8080")
		return
	}
	u, err := parseTarget(target)
	if err != nil {
		v.errorf("target", "%v", err)
		return
	}
	_ = u
}

func (v *validator) iface(s *Scenario, i int, seen map[string]int) {
	it := &s.Interfaces[i]
	f := fmt.Sprintf("interfaces[%d]", i)
	switch {
	case it.Name == "":
		v.errorf(f+".name", "is required")
	case !reInterfaceN.MatchString(it.Name):
		v.errorf(f+".name", "%q is not a valid interface name: want [a-z][a-z0-9_]*", it.Name)
	default:
		if j, dup := seen[it.Name]; dup {
			v.errorf(f+".name", "%q is already the name of interfaces[%d]", it.Name, j)
		} else {
			seen[it.Name] = i
		}
	}
	if it.Method == "" {
		it.Method = DefaultMethod
	}
	it.Method = strings.ToUpper(it.Method)
	switch it.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		v.errorf(f+".method", "%q is not an HTTP method", it.Method)
	}
	switch {
	case it.Path == "":
		v.errorf(f+".path", "is required, e.g. /api/balance")
	case !strings.HasPrefix(it.Path, "/"):
		v.errorf(f+".path", "%q must start with / (it is relative to target)", it.Path)
	case strings.Contains(it.Path, "://"):
		v.errorf(f+".path", "must be a path relative to target, not a URL")
	}
	if it.Timeout == 0 {
		it.Timeout = s.Defaults.Timeout
	} else if it.Timeout < 0 {
		v.errorf(f+".timeout", "must be positive")
	}
	it.Headers = v.headers(f+".headers", it.Headers)
	merged := make(map[string]string, len(s.Defaults.Headers)+len(it.Headers))
	for k, val := range s.Defaults.Headers {
		merged[k] = val
	}
	for k, val := range it.Headers {
		merged[k] = val
	}
	it.Headers = merged
	body, err := expandEnv(it.Body, v.lookupEnv)
	if err != nil {
		v.errorf(f+".body", "%v", err)
	}
	it.Body = body
	if it.Expect == nil {
		it.Expect = s.Defaults.Expect
	} else {
		v.expect(f+".expect", it.Expect)
	}
}

func (v *validator) headers(field string, h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, val := range h {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			v.errorf(field, "%q is not a valid header name", k)
			continue
		}
		x, err := expandEnv(val, v.lookupEnv)
		if err != nil {
			// The message names the variable, never the value.
			v.errorf(field+"."+k, "%v", err)
			continue
		}
		if strings.ContainsAny(x, "\r\n") {
			v.errorf(field+"."+k, "value must not contain line breaks")
			continue
		}
		out[k] = x
	}
	return out
}

func (v *validator) expect(field string, e *Expect) {
	for i, st := range e.Status {
		if st < 100 || st > 599 {
			v.errorf(fmt.Sprintf("%s.status[%d]", field, i), "%d is not an HTTP status", st)
		}
	}
	b := e.Business
	if b == nil {
		return
	}
	bf := field + ".business"
	if b.JSON == "" && b.Regex == "" {
		v.errorf(bf, "needs json (a path to the business code) or regex")
	}
	if b.JSON != "" {
		for _, part := range strings.Split(b.JSON, ".") {
			if part == "" {
				v.errorf(bf+".json", "%q is not a dotted path such as code or result.code", b.JSON)
				break
			}
		}
		n := 0
		if b.Equals != nil {
			n++
		}
		if len(b.In) > 0 {
			n++
		}
		if b.Regex != "" {
			n++
		}
		if n != 1 {
			v.errorf(bf, "with json, set exactly one of equals, in or regex")
		}
	} else if b.Equals != nil || len(b.In) > 0 {
		v.errorf(bf, "equals and in need json, the path to the code")
	}
	if b.Regex != "" {
		if _, err := regexp.Compile(b.Regex); err != nil {
			v.errorf(bf+".regex", "invalid regular expression: %v", err)
		}
	}
}

func (v *validator) mix(field string, mix map[string]float64, names map[string]int) {
	if len(mix) == 0 {
		return
	}
	var sum float64
	for name, w := range mix {
		if _, ok := names[name]; !ok {
			v.errorf(field+"."+name, "names no interface")
		}
		if w < 0 {
			v.errorf(field+"."+name, "weight must not be negative, not %g", w)
		}
		sum += w
	}
	if sum <= 0 {
		v.errorf(field, "weights must add up to more than 0")
	}
}

var reEnvRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} with the environment variable NAME. $$ stays a
// literal $ so bodies with dollar signs need no escaping otherwise.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var missing []string
	out := reEnvRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		val, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}
