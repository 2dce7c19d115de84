package alerts

import (
	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader/scenario"
)

// ObjectivesFrom merges a scenario's thresholds and a baseline's success
// ratios into objectives; either may be nil. A scenario threshold wins for
// its interface; the baseline fills in the interfaces the scenario leaves
// out. An interface with no success or dropped objective gets none.
func ObjectivesFrom(s *scenario.Scenario, b *analyzer.Baseline) []Objective {
	var out []Objective
	seen := map[string]bool{}
	if s != nil {
		// Merged as when a run is judged: the "*" thresholds apply to every
		// interface, and an interface's own ones replace them field by field.
		for _, in := range s.Interfaces {
			th := s.ThresholdsFor(in.Name)
			ob := Objective{Interface: in.Name, Source: conventions.ObjectiveSourceScenario,
				SystemSuccess: th.SystemSuccess, BusinessSuccess: th.BusinessSuccess}
			if th.MaxDropped != nil {
				ob.MaxDropped = *th.MaxDropped
			}
			if ob.SystemSuccess == 0 && ob.BusinessSuccess == 0 && ob.MaxDropped == 0 {
				continue
			}
			seen[in.Name] = true
			out = append(out, ob)
		}
	}
	if b != nil {
		for _, in := range b.Interfaces {
			if seen[in.Name] {
				continue
			}
			ob := Objective{Interface: in.Name, SystemSuccess: in.Metrics[conventions.BaselineSystemSuccess],
				BusinessSuccess: in.Metrics[conventions.BaselineBusinessSuccess], Source: conventions.ObjectiveSourceBaseline}
			if ob.SystemSuccess == 0 && ob.BusinessSuccess == 0 {
				continue
			}
			out = append(out, ob)
		}
	}
	return out
}
