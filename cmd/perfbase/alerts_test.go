package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/perfbase/perfbase/alerts"
	"github.com/perfbase/perfbase/internal/conventions"
)

// TestObjectivesFromScenario: the "*" thresholds apply to every interface
// and an interface's own replace them field by field, as when a run is
// judged; an interface left with no success objective gets none.
func TestObjectivesFromScenario(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "s.yml")
	if err := os.WriteFile(p, []byte(`name: s
target: http://127.0.0.1:1
interfaces: [{name: a, path: /a}, {name: b, path: /b}, {name: c, path: /c}]
stages: [{duration: 1s, rate: 1}]
thresholds:
  "*": {system_success: 0.99, max_dropped: 0.01}
  a: {business_success: 0.9, system_success: 0.995}
  b: {max_dropped: 0}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := objectives(p, "")
	if err != nil {
		t.Fatal(err)
	}
	src := conventions.ObjectiveSourceScenario
	want := []alerts.Objective{
		{Interface: "a", SystemSuccess: 0.995, BusinessSuccess: 0.9, MaxDropped: 0.01, Source: src},
		{Interface: "b", SystemSuccess: 0.99, Source: src},
		{Interface: "c", SystemSuccess: 0.99, MaxDropped: 0.01, Source: src},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("objectives = %+v\nwant %+v", got, want)
	}
}
