package scenario

import (
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/perfbase/perfbase/loader/feed"
)

// DataSet is a file of test data that requests take rows from.
type DataSet struct {
	// File is a .csv (with a header row) or .jsonl file, relative to the
	// scenario file.
	File string `yaml:"file"`
	// Order is sequential (default), random or unique.
	Order string `yaml:"order"`
	// OnExhausted is recycle (default) or stop.
	OnExhausted string `yaml:"on_exhausted"`
}

// Mark is a header added to every request perfbase sends, so that the
// target can tell pressure-test traffic apart.
type Mark struct {
	Header string `yaml:"header"`
	// Value may use {{run_id}}, {{seq}} and {{uuid}}.
	Value string `yaml:"value"`
}

// Step is one set-up or teardown action: a request to the target (the
// fields of an interface) or a command (Exec, run without a shell).
type Step struct {
	Name    string            `yaml:"name"`
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	Expect  *Expect           `yaml:"expect"`
	// Exec is a command and its arguments, run from the scenario's
	// directory; it succeeds when it exits 0.
	Exec []string `yaml:"exec"`
	// Timeout bounds the step; DefaultStepTimeout when zero.
	Timeout Duration `yaml:"timeout"`
}

// IsExec reports whether the step runs a command.
func (s Step) IsExec() bool { return len(s.Exec) > 0 }

// DefaultStepTimeout bounds a set-up or teardown step without its own timeout.
const DefaultStepTimeout = Duration(30 * time.Second)

// Data sets' orders and what happens when their rows are used up.
var (
	dataOrders    = []string{string(feed.Sequential), string(feed.Random), string(feed.Unique)}
	dataExhausted = []string{string(feed.Recycle), string(feed.Stop)}
)

// data checks the data sets' keys; loadData has read their files.
func (v *validator) data(s *Scenario) {
	for _, name := range slices.Sorted(maps.Keys(s.Data)) {
		d := s.Data[name]
		f := "data." + name
		if !dataSetName.MatchString(name) {
			v.errorf(f, "%q: a data set name is letters, digits and _, starting with a letter", name)
		}
		if name == feed.BuiltinRunID || name == feed.BuiltinSeq || name == feed.BuiltinUUID {
			v.errorf(f, "%q is a built-in placeholder name", name)
		}
		if !slices.Contains(dataOrders, d.Order) {
			v.errorf(f+".order", "%q: want one of %s", d.Order, strings.Join(dataOrders, ", "))
		}
		if !slices.Contains(dataExhausted, d.OnExhausted) {
			v.errorf(f+".on_exhausted", "%q: want one of %s", d.OnExhausted, strings.Join(dataExhausted, ", "))
		}
		if d.File == "" {
			v.errorf(f+".file", "is required: a .csv or .jsonl file, relative to the scenario")
		}
	}
}

// loadData reads the data sets' files, relative to the scenario file's
// directory, before validation compiles the templates against them.
func loadData(s *Scenario, r *reporter) {
	s.Sets = map[string]*feed.Set{}
	for _, name := range slices.Sorted(maps.Keys(s.Data)) {
		d := s.Data[name]
		if d.File == "" || !dataSetName.MatchString(name) {
			continue // validation says why
		}
		path := d.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(s.File), path)
		}
		set, err := feed.LoadFile(path)
		if err != nil {
			r.errorf("data."+name+".file", "%v", err)
			continue
		}
		s.Sets[name] = set
	}
}

// templates compiles every template against the data sets, to report
// unknown sets and columns before anything is sent.
func (v *validator) templates(s *Scenario) {
	resolve := s.Resolver()
	check := func(field, src string, e feed.Escape) {
		if _, err := feed.Compile(src, e, "run", resolve); err != nil {
			v.errorf(field, "%v", err)
		}
	}
	for i, it := range s.Interfaces {
		f := fmt.Sprintf("interfaces[%d]", i)
		check(f+".path", it.Path, feed.URL)
		for _, k := range slices.Sorted(maps.Keys(it.Headers)) {
			check(f+".headers."+k, it.Headers[k], feed.Raw)
		}
		check(f+".body", it.Body, feed.Auto)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Defaults.Headers)) {
		check("defaults.headers."+k, s.Defaults.Headers[k], feed.Raw)
	}
	if s.Mark != nil {
		check("mark.value", s.Mark.Value, feed.Raw)
	}
}

// Resolver maps {{set.column}} to indexes in SetNames order.
func (s *Scenario) Resolver() func(set, column string) (feed.Ref, error) {
	names := s.SetNames()
	return func(set, column string) (feed.Ref, error) {
		i := slices.Index(names, set)
		if i < 0 {
			if len(names) == 0 {
				return feed.Ref{}, fmt.Errorf("unknown data set %q: the scenario has no data sets", set)
			}
			return feed.Ref{}, fmt.Errorf("unknown data set %q: the scenario has %s", set, strings.Join(names, ", "))
		}
		c, ok := s.Sets[set].Column(column)
		if !ok {
			return feed.Ref{}, fmt.Errorf("data set %q has no column %q: it has %s", set, column, strings.Join(s.Sets[set].Columns(), ", "))
		}
		return feed.Ref{Set: i, Column: c}, nil
	}
}

// SetNames are the data set names in a fixed order: a Ref's Set indexes it.
func (s *Scenario) SetNames() []string { return slices.Sorted(maps.Keys(s.Sets)) }

func (v *validator) mark(m *Mark) {
	if m == nil {
		return
	}
	if !validHeaderName(m.Header) {
		v.errorf("mark.header", "%q is not a valid header name", m.Header)
	}
	if m.Value == "" {
		v.errorf("mark.value", "is required, e.g. \"{{run_id}}\"")
	}
	if strings.ContainsAny(m.Value, "\r\n") {
		v.errorf("mark.value", "must not contain line breaks")
	}
}

// steps checks set-up or teardown steps. Their templates may use the
// built-ins only: they are not load and take no rows.
func (v *validator) steps(field string, steps []Step) {
	for i, st := range steps {
		f := fmt.Sprintf("%s[%d]", field, i)
		if st.Timeout < 0 {
			v.errorf(f+".timeout", "must be positive")
		}
		if st.IsExec() {
			if st.Path != "" || st.Body != "" || len(st.Headers) > 0 || st.Expect != nil {
				v.errorf(f, "a step is a request (path...) or a command (exec), not both")
			}
			if _, err := exec.LookPath(st.Exec[0]); err != nil && !strings.Contains(st.Exec[0], "/") {
				v.errorf(f+".exec", "%q: not found in PATH", st.Exec[0])
			}
			continue
		}
		v.method(f+".method", st.Method)
		switch {
		case st.Path == "":
			v.errorf(f, "needs a path (a request to the target) or exec (a command)")
		case !strings.HasPrefix(st.Path, "/") || strings.Contains(st.Path, "://"):
			v.errorf(f+".path", "%q must be a path relative to target, starting with /", st.Path)
		}
		v.headers(f+".headers", st.Headers)
		if st.Expect != nil {
			v.expect(f+".expect", st.Expect)
		}
		none := func(set, _ string) (feed.Ref, error) {
			return feed.Ref{}, fmt.Errorf("set-up and teardown take no data set rows (%q): use {{run_id}}, {{seq}} or {{uuid}}", set)
		}
		if _, err := feed.Compile(st.Path, feed.URL, "run", none); err != nil {
			v.errorf(f+".path", "%v", err)
		}
		if _, err := feed.Compile(st.Body, feed.Auto, "run", none); err != nil {
			v.errorf(f+".body", "%v", err)
		}
		for _, k := range slices.Sorted(maps.Keys(st.Headers)) {
			if _, err := feed.Compile(st.Headers[k], feed.Raw, "run", none); err != nil {
				v.errorf(f+".headers."+k, "%v", err)
			}
		}
	}
}
