package main

import (
	"fmt"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/alerts"
	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader/scenario"
)

// AlertsCmd generates Prometheus rule files and their promtool tests.
type AlertsCmd struct {
	Out      string `help:"Directory to write the rule and test files to." required:"" type:"path"`
	Scenario string `help:"Scenario file whose thresholds become the interfaces' success objectives." type:"existingfile"`
	Baseline string `help:"Baseline file whose success ratios become objectives for interfaces the scenario does not cover." type:"existingfile"`

	LatencyTolerance float64        `help:"Fire when a live quantile is above (1 + this) x its baseline." default:"0.2"`
	LatencyFor       model.Duration `help:"How long latency must stay above the baseline." default:"10m"`
	LatencyQuantiles []string       `help:"Baseline latency keys compared with the live quantiles." default:"latency_p90_seconds,latency_p99_seconds"`
	DropTolerance    float64        `help:"Highest dropped/scheduled ratio before the load counts as not reached." default:"0.01"`
	MaxObjective     float64        `help:"Cap on objectives taken from a baseline, so 100% success leaves a budget." default:"0.999"`
	LoaderJob        string         `help:"Prometheus job that scrapes perfbase run." default:"perfbase"`
	RunbookURL       string         `help:"Runbook page; the alert name is appended as an anchor." default:"https://github.com/perfbase/perfbase/blob/main/docs/alerts.md"`
	EvalInterval     model.Duration `help:"Evaluation interval of the rule groups (0: Prometheus' global one)." default:"0s"`
}

// Run implements the command.
func (c *AlertsCmd) Run(g *Globals) error {
	o := alerts.DefaultOptions()
	o.LatencyTolerance, o.LatencyFor, o.LatencyQuantiles = c.LatencyTolerance, c.LatencyFor, c.LatencyQuantiles
	o.DropTolerance, o.MaxObjective, o.LoaderJob = c.DropTolerance, c.MaxObjective, c.LoaderJob
	o.RunbookURL, o.EvaluationInterval = c.RunbookURL, c.EvalInterval
	obs, err := objectives(c.Scenario, c.Baseline)
	if err != nil {
		return badInput(err)
	}
	o.Objectives = obs
	files, err := alerts.Generate(o)
	if err != nil {
		return badInput(err)
	}
	paths, err := alerts.WriteDir(c.Out, files)
	if err != nil {
		return failed(err)
	}
	for _, p := range paths {
		fmt.Fprintln(g.Stdout, p)
	}
	g.Logger.Info("rules generated", "dir", c.Out, "objectives", len(obs),
		"check", fmt.Sprintf("promtool check rules %s && promtool test rules %s", alerts.RulesFile, alerts.TestsFile))
	return nil
}

// objectives reads the scenario's thresholds and the baseline's success
// ratios. A scenario threshold wins for its interface; the baseline fills in
// the interfaces the scenario leaves out.
func objectives(scenarioFile, baselineFile string) ([]alerts.Objective, error) {
	var out []alerts.Objective
	seen := map[string]bool{}
	if scenarioFile != "" {
		s, err := scenario.Load(scenarioFile)
		if err != nil {
			return nil, err
		}
		// Merged as when a run is judged: the "*" thresholds apply to every
		// interface, and an interface's own ones replace them field by field.
		for _, in := range s.Interfaces {
			th := s.ThresholdsFor(in.Name)
			ob := alerts.Objective{Interface: in.Name, Source: conventions.ObjectiveSourceScenario,
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
	if baselineFile != "" {
		b, err := analyzer.LoadBaseline(baselineFile)
		if err != nil {
			return nil, err
		}
		for _, in := range b.Interfaces {
			if seen[in.Name] {
				continue
			}
			ob := alerts.Objective{Interface: in.Name, SystemSuccess: in.Metrics[conventions.BaselineSystemSuccess],
				BusinessSuccess: in.Metrics[conventions.BaselineBusinessSuccess], Source: conventions.ObjectiveSourceBaseline}
			if ob.SystemSuccess == 0 && ob.BusinessSuccess == 0 {
				continue
			}
			out = append(out, ob)
		}
	}
	return out, nil
}
