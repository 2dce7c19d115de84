package alerts_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/perfbase/perfbase/alerts"
	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader/scenario"
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
	s, err := scenario.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	got := alerts.ObjectivesFrom(s, nil)
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

// TestObjectivesScenarioWinsOverBaseline: the baseline fills in only the
// interfaces the scenario has no objective for.
func TestObjectivesScenarioWinsOverBaseline(t *testing.T) {
	t.Parallel()
	s, err := scenario.Parse([]byte(`name: s
target: http://127.0.0.1:1
interfaces: [{name: a, path: /a}]
stages: [{duration: 1s, rate: 1}]
thresholds: {a: {system_success: 0.99}}
`), "s.yml")
	if err != nil {
		t.Fatal(err)
	}
	b := &analyzer.Baseline{Interfaces: []analyzer.BaselineInterface{
		{Name: "a", Metrics: map[string]float64{conventions.BaselineSystemSuccess: 0.5}},
		{Name: "z", Metrics: map[string]float64{conventions.BaselineSystemSuccess: 0.98, conventions.BaselineBusinessSuccess: 0.9}},
		{Name: "none", Metrics: map[string]float64{conventions.BaselineLatencyP99: 0.2}},
	}}
	got := alerts.ObjectivesFrom(s, b)
	want := []alerts.Objective{
		{Interface: "a", SystemSuccess: 0.99, Source: conventions.ObjectiveSourceScenario},
		{Interface: "z", SystemSuccess: 0.98, BusinessSuccess: 0.9, Source: conventions.ObjectiveSourceBaseline},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ObjectivesFrom = %+v\nwant %+v", got, want)
	}
}
