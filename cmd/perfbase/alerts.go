package main

import (
	"fmt"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/alerts"
	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/loader/scenario"
)

// AlertsCmd generates Prometheus rule files and their promtool tests.
type AlertsCmd struct {
	Out      string `help:"Directory to write the rule and test files to." required:"" type:"path"`
	Scenario string `help:"Scenario file whose thresholds become the interfaces' success objectives." type:"existingfile"`
	Baseline string `help:"Baseline file whose success ratios become objectives for interfaces the scenario does not cover." type:"existingfile"`

	LatencyTolerance float64        `help:"Fire when a live quantile is above (1 + this) x its baseline." default:"${alerts_latency_tol}"`
	LatencyFor       model.Duration `help:"How long latency must stay above the baseline." default:"${alerts_latency_for}"`
	LatencyQuantiles []string       `help:"Baseline latency keys compared with the live quantiles." default:"${alerts_latency_keys}"`
	DropTolerance    float64        `help:"Highest dropped/scheduled ratio before the load counts as not reached." default:"${alerts_drop_tol}"`
	MaxObjective     float64        `help:"Cap on objectives taken from a baseline, so 100% success leaves a budget." default:"${alerts_max_objective}"`
	LoaderJob        string         `help:"Prometheus job that scrapes perfbase run." default:"${alerts_loader_job}"`
	RunbookURL       string         `help:"Runbook page; the alert name is appended as an anchor." default:"${alerts_runbook_url}"`
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

// objectives loads the files and lets alerts.ObjectivesFrom merge them.
func objectives(scenarioFile, baselineFile string) ([]alerts.Objective, error) {
	var (
		s   *scenario.Scenario
		b   *analyzer.Baseline
		err error
	)
	if scenarioFile != "" {
		if s, err = scenario.Load(scenarioFile); err != nil {
			return nil, err
		}
	}
	if baselineFile != "" {
		if b, err = analyzer.LoadBaseline(baselineFile); err != nil {
			return nil, err
		}
	}
	return alerts.ObjectivesFrom(s, b), nil
}
