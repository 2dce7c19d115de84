package scenario

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func noEnv(string) (string, bool) { return "", false }

func TestLoadExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../examples/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(s.Interfaces) == 0 || len(s.Stages) == 0 {
			t.Errorf("%s: loaded without interfaces or stages", f)
		}
	}
}

func TestParseMixed(t *testing.T) {
	t.Parallel()
	s, err := Load("../../examples/mixed.yml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != ModeMixed {
		t.Errorf("mode = %q", s.Mode)
	}
	bal, ok := s.Interface("query_balance")
	if !ok {
		t.Fatal("query_balance missing")
	}
	if bal.Timeout.D() != 2*time.Second {
		t.Errorf("timeout from defaults = %v, want 2s", bal.Timeout)
	}
	if bal.Headers["User-Agent"] != "perfbase" || bal.Headers["Accept"] != "application/json" {
		t.Errorf("headers not merged with defaults: %v", bal.Headers)
	}
	if bal.Expect == nil || bal.Expect.Business == nil || *bal.Expect.Business.Equals != "0000" {
		t.Errorf("business rule not decoded: %+v", bal.Expect)
	}
	w := s.Weights(s.Stages[1])
	if got := w["query_balance"]; got != 0.5 {
		t.Errorf("query_balance weight = %g, want 0.5", got)
	}
	peak := s.Weights(s.Stages[3])
	if got := peak["recharge"]; got != 4.0/6 {
		t.Errorf("recharge weight in the peak = %g, want %g", got, 4.0/6)
	}
	if got, want := s.TotalDuration(), 40*time.Second; got != want {
		t.Errorf("TotalDuration = %v, want %v", got, want)
	}
	c, err := Load("../../examples/concentrated.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.TotalDuration(), 2*18*time.Second; got != want {
		t.Errorf("concentrated TotalDuration = %v, want %v", got, want)
	}
}

func TestInvalidReportsEverythingAtOnce(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/invalid-many.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = parse(data, "testdata/invalid-many.yml", noEnv)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	got := err.Error() + "\n"
	golden := "testdata/invalid-many.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("errors differ from %s (run with -update to accept):\n%s", golden, got)
	}
	for _, e := range errs {
		if e.Line == 0 {
			t.Errorf("error without a line: %v", e)
		}
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	env := func(k string) (string, bool) {
		if k == "TOKEN" {
			return "s3cr3t-value", true
		}
		return "", false
	}
	src := `name: x
target: http://127.0.0.1:1
interfaces:
  - name: a
    path: /a
    headers: {Authorization: "Bearer ${TOKEN}", X-Bad: "a${MISSING}"}
    unknown: 1
stages: [{duration: 1s, rate: 1}]
`
	_, err := parse([]byte(src), "s.yml", env)
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("secret leaked into error: %v", err)
	}
	if !strings.Contains(err.Error(), "MISSING") {
		t.Errorf("error does not name the missing variable: %v", err)
	}
	s, err := parse([]byte(strings.Replace(strings.Replace(src, "    unknown: 1\n", "", 1), `, X-Bad: "a${MISSING}"`, "", 1)), "s.yml", env)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Interfaces[0].Headers["Authorization"]; got != "Bearer s3cr3t-value" {
		t.Errorf("Authorization = %q, want the expanded token", got)
	}
}

func TestInvalidCases(t *testing.T) {
	t.Parallel()
	base := `name: x
target: http://127.0.0.1:1
interfaces: [{name: a, path: /a}]
stages: [{duration: 1s, rate: 1}]
`
	cases := []struct {
		name, yaml, want string
	}{
		{"empty", "", "file is empty"},
		{"syntax", "name: [", "s.yml:"},
		{"no interfaces", strings.Replace(base, "interfaces: [{name: a, path: /a}]", "interfaces: []", 1), "interfaces: at least one interface"},
		{"bad duration", strings.Replace(base, "duration: 1s", "duration: soon", 1), `s.yml:4:21: stages[0].duration: invalid duration "soon"`},
		{"rate zero", strings.Replace(base, "rate: 1", "rate: 0", 1), "stages[0].rate: must be positive"},
		{"rate text", strings.Replace(base, "rate: 1", "rate: fast", 1), `cannot use str "fast" as a number`},
		{"unknown top key", base + "colour: red\n", "s.yml:5:1: colour: unknown field"},
		{"duplicate", strings.Replace(base, "[{name: a, path: /a}]", "[{name: a, path: /a}, {name: a, path: /b}]", 1), `"a" is already the name of interfaces[0]`},
		{"bad name", strings.Replace(base, "name: a,", "name: 9a,", 1), "not a valid interface name"},
		{"users and rate", strings.Replace(base, "rate: 1", "rate: 1, users: 2", 1), "more than one of rate, ramp_to and users"},
		{"mix unknown", base + "mix: {b: 1}\n", "mix.b: names no interface"},
		{"concentrated mix", base + "mode: concentrated\nmix: {a: 1}\n", "applies to mode"},
		{"bad mode", base + "mode: soak\n", `must be "mixed" or "concentrated"`},
		{"threshold ratio", base + "thresholds: {a: {system_success: 99}}\n", "thresholds.a.system_success: is a ratio"},
		{"guard", base + "guard: {min_system_success: 0.5, window: 100ms}\n", "guard.window: must be at least 1s"},
		{"target", strings.Replace(base, "http://127.0.0.1:1", "127.0.0.1:1", 1), "s.yml:2:1: target: is not a URL"},
		{"regex", base + "defaults: {expect: {business: {regex: '('}}}\n", "invalid regular expression"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse([]byte(tc.yaml), "s.yml", noEnv)
			if err == nil {
				t.Fatalf("want error containing %q, got none", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../examples/mixed.yml", "../../examples/concentrated.yml", "testdata/invalid-many.yml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parse(data, "f.yml", noEnv)
		if err == nil && (s == nil || len(s.Interfaces) == 0 || len(s.Stages) == 0) {
			t.Fatalf("accepted a scenario without interfaces or stages")
		}
	})
}
