package scenario

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
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

// parse is Parse with the environment ${NAME} references are read from.
//
// The steps, each in its own file: decode onto the Default* values
// (decode.go), fill in the fields whose zero value means a default
// (defaults.go), expand ${NAME} references (env.go), validate without
// changing anything (validate.go), and only then let each interface inherit
// what it leaves to the defaults block (defaults.go): every problem is
// reported where the file says it.
func parse(data []byte, file string, lookupEnv func(string) (string, bool)) (*Scenario, error) {
	s, keys, errs := decode(data, file)
	if s == nil {
		return nil, errs
	}
	// A duplicate key stops the decoder in that mapping: what follows it is
	// not decoded, and checking the half-read scenario would report keys
	// that are in the file as missing. Report what the decoder found.
	for _, e := range errs {
		if strings.Contains(e.Msg, "already defined at line") {
			return nil, errs
		}
	}
	applyDefaults(s)
	env := &reporter{file: file, keys: keys}
	expandEnv(s, lookupEnv, env)
	loadData(s, env)
	v := &validator{reporter: reporter{file: file, keys: keys}}
	v.scenario(s)

	// A field that could not be decoded is reported once, not again as
	// missing or zero by the checks that follow decoding.
	bad := map[string]bool{}
	for _, e := range errs {
		if e.Field != "" {
			bad[e.Field] = true
		}
	}
	for _, e := range slices.Concat(v.errs, env.errs) {
		if !bad[e.Field] {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		// In file order; problems at one place keep the order they were found in.
		slices.SortStableFunc(errs, func(a, b Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, errs
	}
	inherit(s)
	return s, nil
}

// decode reads data onto DefaultScenario, rejecting unknown keys. It returns
// the scenario, where each field's key is in the file, and the problems the
// decoder found. The scenario is nil when data is not YAML at all.
func decode(data []byte, file string) (*Scenario, map[string]position, Errors) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, Errors{yamlError(file, err)}
	}
	if len(root.Content) == 0 {
		return nil, nil, Errors{{File: file, Msg: "file is empty"}}
	}
	keys, entries := indexPositions(&root)

	// UnmarshalYAML sets the defaults, but it is not called for a document
	// that is null: that one starts from them here.
	s := DefaultScenario
	var errs Errors
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, nil, Errors{yamlError(file, err)}
		}
		used := map[string]bool{}
		for _, m := range te.Errors {
			e, r := typeError(file, m)
			errs = append(errs, placeTypeError(e, r, entries, used))
		}
	}
	// One scenario a file: a second document would be silently ignored.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		errs = append(errs, Error{File: file, Line: max(next.Line, 1), Column: next.Column,
			Msg: "a second YAML document: a scenario file holds one scenario (remove the ---, or split the file)"})
	}
	s.File = file
	return &s, keys, errs
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
	reYAMLLine  = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?:: column (\d+))?: (.*)$`)
	reNotFound  = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	reUnmarshal = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
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
