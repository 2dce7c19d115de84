package scenario

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	env := func(k string) (string, bool) { return map[string]string{"TOKEN": "t0k"}[k], k == "TOKEN" }
	s, err := parse([]byte(`name: x
target: http://127.0.0.1:1
defaults:
  timeout: 2s
  headers: {User-Agent: perfbase, Accept: text/plain}
  expect: {status: [200]}
interfaces:
  - {name: inherits, path: /a}
  - name: own
    method: post
    path: /b
    timeout: 1s
    headers: {Accept: application/json, Authorization: "Bearer ${TOKEN}"}
    body: '{"token":"${TOKEN}","price":"$5"}'
    expect: {status: [201]}
stages: [{duration: 1s, rate: 1}]
guard: {min_system_success: 0.5, window: 0s}
`), "s.yml", env)
	if err != nil {
		t.Fatal(err)
	}
	in, own := s.Interfaces[0], s.Interfaces[1]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"mode", s.Mode, ModeMixed},
		{"defaults.max_in_flight", s.Defaults.MaxInFlight, DefaultDefaults.MaxInFlight},
		{"defaults.lateness", s.Defaults.Lateness, DefaultDefaults.Lateness},
		{"defaults.max_body", s.Defaults.MaxBody, DefaultDefaults.MaxBody},
		{"inherited method", in.Method, DefaultMethod},
		{"inherited timeout", in.Timeout, Duration(2 * time.Second)},
		{"inherited headers", in.Headers, map[string]string{"User-Agent": "perfbase", "Accept": "text/plain"}},
		{"inherited expect", in.Expect, s.Defaults.Expect},
		{"method in upper case", own.Method, "POST"},
		{"own timeout", own.Timeout, Duration(time.Second)},
		{"merged headers", own.Headers, map[string]string{"User-Agent": "perfbase", "Accept": "application/json", "Authorization": "Bearer t0k"}},
		{"expanded body", own.Body, `{"token":"t0k","price":"$5"}`},
		{"own expect", own.Expect.Status, []int{201}},
		{"guard window 0s", s.Guard.Window, DefaultGuard.Window},
		{"guard min_requests", s.Guard.MinRequests, DefaultGuard.MinRequests},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestUnmarshalYAMLDefaults: a Scenario decoded by any YAML decoder, as a
// program embedding one in its own file would, starts from DefaultScenario.
func TestUnmarshalYAMLDefaults(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Scenario Scenario `yaml:"scenario"`
	}
	if err := yaml.Unmarshal([]byte("scenario: {name: x, defaults: {timeout: 1s}}\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	want := DefaultScenario
	want.Name = "x"
	want.Defaults.Timeout = Duration(time.Second)
	if !reflect.DeepEqual(cfg.Scenario, want) {
		t.Errorf("got %+v, want %+v", cfg.Scenario, want)
	}
}

// TestValidateIsPure validates every scenario in testdata and examples and
// checks that validation changed nothing.
func TestValidateIsPure(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob("../../examples/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, examples...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		prepare := func() (*Scenario, map[string]position) {
			s, keys, _ := decode(data, f)
			if s != nil {
				applyDefaults(s)
				expandEnv(s, testEnv, &reporter{file: f, keys: keys})
			}
			return s, keys
		}
		s, keys := prepare()
		if s == nil {
			continue
		}
		before, _ := prepare()
		v := &validator{reporter: reporter{file: f, keys: keys}}
		v.scenario(s)
		// Files holding NaN on purpose cannot be compared: NaN is not
		// DeepEqual to itself. The other files show validation is pure.
		if strings.Contains(f, "-nan") {
			continue
		}
		if !reflect.DeepEqual(s, before) {
			t.Errorf("%s: validation changed the scenario", f)
		}
	}
}
