package scenario

import (
	"errors"
	"flag"
	"fmt"
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

// testEnv is the environment of the invalid-*.yml files: the variables
// they reference that are set.
func testEnv(k string) (string, bool) {
	if k == "PERFBASE_TEST_MULTILINE" {
		return "a\nb", true
	}
	return "", false
}

// TestInvalidFiles parses each testdata/invalid-<case>.yml and compares
// every reported line, after the file name, with the case's.
func TestInvalidFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		want []string
	}{
		{"defaults-max-in-flight-huge", []string{`:3:12: defaults.max_in_flight: must be at most 100000, not 10000000`}},
		{"second-document", []string{`:5:1: a second YAML document: a scenario file holds one scenario (remove the ---, or split the file)`}},
		{"business-json-index", []string{`:3:54: interfaces[0].expect.business.json: "items[0].code" is not a dotted path of object keys such as code or result.code`}},
		{"name-non-ascii", []string{`:1:1: name: "压测": use ASCII letters, digits and _.:- (at most 100, starting with a letter or digit)`}},
		{"duplicate-key", []string{`:2:7: name: mapping key "name" already defined at line 1`}},
		{"stage-rate-inf", []string{`:4:25: stages[0].rate: must be a finite number at most 1e+06, not +Inf`}},
		{"stage-rate-nan", []string{`:4:25: stages[0].rate: must be a finite number at most 1e+06, not NaN`}},
		{"stage-rate-huge", []string{`:4:25: stages[0].rate: must be a finite number at most 1e+06, not 1e+308`}},
		{"mix-nan", []string{`:4:7: mix.a: weight must be a finite number at most 1e+06, not NaN`}},
		{"guard-nan", []string{`:5:9: guard.min_system_success: must be in (0, 1], not NaN`}},
		{"threshold-nan", []string{`:5:18: thresholds.a.system_success: is a ratio and must be in [0, 1], not NaN`}},
		{"stage-users-huge", []string{`:4:25: stages[0].users: must be at most 100000 (shard bigger loads with --shard), not 10000000`}},
		{"stage-durations-overflow", []string{`:4:11: stages[0].duration: must be at most 744h0m0s`, `:4:41: stages[1].duration: must be at most 744h0m0s`}},
		{"body-env-unset", []string{`:3:34: interfaces[0].body: environment variable PERFBASE_TEST_UNSET is not set`}},
		{"business-empty", []string{`:5:21: defaults.expect.business: needs json (a path to the business code) or regex`}},
		{"business-equals-without-json", []string{`:5:21: defaults.expect.business: equals and in need json, the path to the code`}},
		{"business-in-only", []string{
			`:5:21: defaults.expect.business: needs json (a path to the business code) or regex`,
			`:5:21: defaults.expect.business: equals and in need json, the path to the code`,
		}},
		{"business-json-none", []string{`:5:21: defaults.expect.business: with json, set exactly one of equals, in or regex`}},
		{"business-json-path", []string{`:5:32: defaults.expect.business.json: "a..b" is not a dotted path of object keys such as code or result.code`}},
		{"business-json-two", []string{`:5:21: defaults.expect.business: with json, set exactly one of equals, in or regex`}},
		{"business-regex", []string{":5:32: defaults.expect.business.regex: invalid regular expression: error parsing regexp: missing closing ): `(`"}},
		{"comments-only", []string{`: file is empty`}},
		{"defaults-lateness", []string{`:5:12: defaults.lateness: must be positive`}},
		{"defaults-max-body", []string{`:5:12: defaults.max_body: must not be negative`}},
		{"defaults-max-in-flight", []string{`:5:12: defaults.max_in_flight: must be positive`}},
		{"defaults-timeout", []string{`:5:12: defaults.timeout: must be positive`}},
		{"duration-not-scalar", []string{`:5:21: defaults.timeout: want a duration such as 250ms or 1m`}},
		{"empty", []string{`: file is empty`}},
		{"guard-min-requests", []string{`:5:34: guard.min_requests: must be positive`}},
		{"guard-min-system-success", []string{`:5:9: guard.min_system_success: must be in (0, 1], not 0`}},
		{"guard-window", []string{`:5:34: guard.window: must be at least 1s`}},
		{"header-bad-name-unset-env", []string{`:6:3: defaults.headers: "a:b" is not a valid header name`}},
		{"header-env-unset", []string{`:7:5: defaults.headers.Authorization: environment variable PERFBASE_TEST_UNSET is not set`}},
		{"header-line-break", []string{
			`:7:5: defaults.headers.X-Raw: value must not contain line breaks`,
			`:8:5: defaults.headers.X-Env: value must not contain line breaks`,
		}},
		{"header-name", []string{`:6:3: defaults.headers: "Bad Name" is not a valid header name`}},
		{"interface-block-style", []string{
			`:4:5: interfaces[0].name: is required`,
			`:4:5: interfaces[0].path: is required, e.g. /api/balance`,
			`:4:5: interfaces[0].body: environment variable PERFBASE_TEST_UNSET is not set`,
		}},
		{"interface-header-name", []string{`:3:34: interfaces[0].headers: "" is not a valid header name`}},
		{"interface-name-duplicate", []string{`:3:36: interfaces[1].name: "a" is already the name of interfaces[0]`}},
		{"interface-name-missing", []string{`:3:14: interfaces[0].name: is required`}},
		{"interface-name", []string{`:3:15: interfaces[0].name: "9a" is not a valid interface name: want [a-z][a-z0-9_]*`}},
		{"interface-status", []string{`:3:52: interfaces[0].expect.status[0]: 1000 is not an HTTP status`}},
		{"interface-timeout", []string{`:3:34: interfaces[0].timeout: must be positive`}},
		{"interfaces-empty", []string{`:3:1: interfaces: at least one interface is required`}},
		{"interfaces-missing", []string{`: interfaces: at least one interface is required`}},
		{"long-value", []string{`:4:34: stages[0].ramp_to: cannot use str "1234567..." as a number`}},
		{"method", []string{`:3:34: interfaces[0].method: "FETCH" is not an HTTP method`}},
		{"mix-concentrated", []string{`:6:1: mix: applies to mode "mixed" only; a concentrated run gives each interface the full rate`}},
		{"mix-negative", []string{
			`:5:1: mix: weights must add up to more than 0`,
			`:5:7: mix.a: weight must not be negative, not -1`,
		}},
		{"mix-unknown", []string{`:5:13: mix.b: names no interface`}},
		{"mix-zero", []string{`:5:1: mix: weights must add up to more than 0`}},
		{"mode", []string{`:5:1: mode: must be "mixed" or "concentrated", not "soak"`}},
		{"name-missing", []string{`: name: is required`}},
		{"not-a-bool", []string{`:5:22: defaults.insecure: cannot use str "maybe" as true or false`}},
		{"not-a-duration", []string{`:4:21: stages[0].duration: invalid duration "soon": want a duration such as 250ms, 1m30s or 1d`}},
		{"not-a-list", []string{`:5:29: defaults.expect.status: cannot use int "200" as a list`}},
		{"not-a-mapping", []string{`:5:21: defaults.headers: cannot unmarshal !!seq into map[string]string`}},
		{"not-a-number", []string{`:4:31: stages[0].rate: cannot use str "fast" as a number`}},
		{"not-an-integer", []string{`:5:27: defaults.max_in_flight: cannot use str "lots" as an integer`}},
		{"null-document", []string{
			`: name: is required`,
			`: target: is required, e.g. http://127.0.0.1:8080`,
			`: interfaces: at least one interface is required`,
			`: stages: at least one stage is required`,
		}},
		{"path-missing", []string{`:3:14: interfaces[0].path: is required, e.g. /api/balance`}},
		{"path-relative", []string{`:3:24: interfaces[0].path: "a" must start with / (it is relative to target)`}},
		{"path-url", []string{`:3:24: interfaces[0].path: must be a path relative to target, not a URL`}},
		{"readme", []string{
			`:5:6: interfaces[1].name: "query_balance" is already the name of interfaces[0]`,
			`:6:7: mix.nope: names no interface`,
			`:8:20: stages[0].rate: must be positive, not 0`,
			`:10:3: thresholds.other: names no interface (use "*" for all)`,
			`:11:1: colour: unknown field`,
		}},
		{"scalar-document", []string{
			`: name: is required`,
			`: target: is required, e.g. http://127.0.0.1:8080`,
			`: interfaces: at least one interface is required`,
			`: stages: at least one stage is required`,
			`:1: cannot use str "hello" as a Scenario`,
		}},
		{"sequence-document", []string{
			`: name: is required`,
			`: target: is required, e.g. http://127.0.0.1:8080`,
			`: interfaces: at least one interface is required`,
			`: stages: at least one stage is required`,
			`:1:3: [0]: cannot unmarshal !!seq into scenario.Scenario`,
		}},
		{"stage-block-style", []string{
			`:5:5: stages[0].duration: must be positive`,
			`:5:5: stages[0]: needs one of rate, ramp_to (open loop) or users (closed loop)`,
		}},
		{"stage-duration", []string{`:4:11: stages[0].duration: must be positive`}},
		{"stage-mix-concentrated", []string{`:4:34: stages[0].mix: applies to mode "mixed" only`}},
		{"stage-mix", []string{`:4:40: stages[0].mix.b: names no interface`}},
		{"stage-no-load", []string{`:4:10: stages[0]: needs one of rate, ramp_to (open loop) or users (closed loop)`}},
		{"stage-ramp-to", []string{`:4:25: stages[0].ramp_to: must be positive, not -5`}},
		{"stage-rate", []string{`:4:25: stages[0].rate: must be positive, not 0`}},
		{"stage-two-loads", []string{`:4:10: stages[0]: sets more than one of rate, ramp_to and users`}},
		{"stage-users", []string{`:4:25: stages[0].users: must be positive, not 0`}},
		{"stages-empty", []string{`:4:1: stages: at least one stage is required`}},
		{"stages-missing", []string{`: stages: at least one stage is required`}},
		{"status", []string{
			`:5:30: defaults.expect.status[0]: 99 is not an HTTP status`,
			`:5:39: defaults.expect.status[2]: 600 is not an HTTP status`,
		}},
		{"syntax", []string{`:1: did not find expected node content`}},
		{"target-missing", []string{`: target: is required, e.g. http://127.0.0.1:8080`}},
		{"target-no-host", []string{`:2:1: target: has no host, e.g. http://127.0.0.1:8080`}},
		{"target-not-url", []string{`:2:1: target: is not a URL`}},
		{"target-query", []string{`:2:1: target: must not have a query or fragment; put them in interface paths`}},
		{"target-scheme", []string{`:2:1: target: scheme must be http or https, not "ftp"`}},
		{"threshold-interface", []string{`:5:14: thresholds.b: names no interface (use "*" for all)`}},
		{"threshold-latency", []string{`:5:18: thresholds.a.p50: must not be negative`}},
		{"threshold-ratios", []string{
			`:6:9: thresholds.*.business_success: is a ratio and must be in [0, 1], not 1.5`,
			`:7:7: thresholds.a.system_success: is a ratio and must be in [0, 1], not -0.1`,
			`:7:29: thresholds.a.max_dropped: is a ratio and must be in [0, 1], not 2`,
		}},
		{"two-bad-values", []string{
			`:4:31: stages[0].rate: cannot use str "x" as a number`,
			`:4:56: stages[1].rate: cannot use str "x" as a number`,
		}},
		{"two-unknown-fields", []string{
			`:3:34: interfaces[0].colour: unknown field`,
			`:3:66: interfaces[1].colour: unknown field`,
		}},
		{"unknown-field", []string{`:5:1: colour: unknown field`}},
		{"unknown-nested-field", []string{`:3:34: interfaces[0].colour: unknown field`}},
	}
	covered := map[string]bool{"testdata/invalid-many.yml": true} // TestInvalidReportsEverythingAtOnce
	for _, tc := range cases {
		file := "testdata/invalid-" + tc.name + ".yml"
		covered[file] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := parse(data, file, testEnv)
			if err == nil {
				t.Fatalf("accepted: %v", s)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %T: %v", err, err)
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = file + w
			}
			if got, want := err.Error(), strings.Join(want, "\n"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	files, err := filepath.Glob("testdata/invalid-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[f] {
			t.Errorf("%s has no case", f)
		}
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

// TestSizeLimits: too many interfaces and an oversized body are refused
// with their field, before anything is sent (the files are built here:
// they would be megabytes of testdata).
func TestSizeLimits(t *testing.T) {
	t.Parallel()
	var many strings.Builder
	many.WriteString("name: x\ntarget: http://127.0.0.1:1\ninterfaces:\n")
	for i := range MaxInterfaces + 1 {
		fmt.Fprintf(&many, "  - {name: i%d, path: /a}\n", i)
	}
	many.WriteString("stages: [{duration: 1s, rate: 1}]\n")
	huge := "name: x\ntarget: http://127.0.0.1:1\ninterfaces: [{name: a, method: POST, path: /a, body: \"" +
		strings.Repeat("x", MaxBody+1) + "\"}]\nstages: [{duration: 1s, rate: 1}]\n"
	for _, tc := range []struct{ name, data, want string }{
		{"many.yml", many.String(), "many.yml:3:1: interfaces: 1001 interfaces: at most 1000 in one scenario"},
		{"huge.yml", huge, "huge.yml:3:48: interfaces[0].body: 1048577 bytes: at most 1048576"},
	} {
		_, err := Parse([]byte(tc.data), tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestMessagesAreDeterministic: type errors in flow-style mappings are
// reported at the same field and column on every parse (the decoder's
// messages do not say which key; the place must not depend on map order).
func TestMessagesAreDeterministic(t *testing.T) {
	t.Parallel()
	data := []byte("name: x\ntarget: http://127.0.0.1:1\ninterfaces:\n" +
		"  - {name: a, path: /a, expect: {status: \"200\"}}\n" +
		"  - {name: b, path: /b, expect: {status: \"201\", business: {json: 5}}, timeout: x}\n" +
		"stages: [{duration: 1s, rate: 1}]\n")
	_, first := Parse(data, "flow.yml")
	if first == nil || !strings.Contains(first.Error(), "flow.yml:4:42: interfaces[0].expect.status") {
		t.Fatalf("first parse: %v", first)
	}
	for range 50 {
		if _, err := Parse(data, "flow.yml"); err == nil || err.Error() != first.Error() {
			t.Fatalf("messages differ between parses:\n%v\n---\n%v", first, err)
		}
	}
}
