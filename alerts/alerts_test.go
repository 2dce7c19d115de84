package alerts

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// cases are the option sets whose output is golden and checked by promtool.
func cases() map[string]Options {
	withScenario := DefaultOptions()
	withScenario.Objectives = []Objective{
		{Interface: "query_balance", SystemSuccess: 0.999, BusinessSuccess: 0.995, MaxDropped: 0.05, Source: c.ObjectiveSourceScenario},
		{Interface: "recharge", SystemSuccess: 0.99, Source: c.ObjectiveSourceScenario},
	}
	fromBaseline := DefaultOptions()
	fromBaseline.Objectives = []Objective{
		{Interface: "recharge", SystemSuccess: 1, BusinessSuccess: 0.97, Source: c.ObjectiveSourceBaseline},
	}
	fast := DefaultOptions()
	fast.EvaluationInterval = model.Duration(time.Second)
	fast.LatencyFor = model.Duration(2 * time.Minute)
	fast.LatencyTolerance = 0.1
	fast.LatencyQuantiles = []string{c.BaselineLatencyP50, c.BaselineLatencyP95, c.BaselineLatencyP99}
	fast.LoaderJob = "perfbase-run"
	return map[string]Options{"default": DefaultOptions(), "scenario": withScenario, "baseline": fromBaseline, "fast": fast}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for name, o := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			for file, got := range files {
				golden := filepath.Join("testdata", name, file)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the generated output; run go test ./alerts -update and review the diff", golden)
				}
			}
		})
	}
}

// TestRulesParse checks the rule files in-process with Prometheus' own
// parser under the legacy (2.42) name rules, and that they use nothing 2.42
// cannot load.
func TestRulesParse(t *testing.T) {
	t.Parallel()
	for name, o := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			p := parser.NewParser(parser.Options{})
			rgs, errs := rulefmt.Parse(files[RulesFile], false, model.LegacyValidation, p, slog.New(slog.DiscardHandler))
			if len(errs) > 0 {
				t.Fatalf("rulefmt.Parse: %v", errs)
			}
			alerts := map[string]bool{}
			for _, g := range rgs.Groups {
				if len(g.Labels) > 0 || g.QueryOffset != nil {
					t.Errorf("group %s uses labels or query_offset, which Prometheus 2.42 rejects", g.Name)
				}
				for _, r := range g.Rules {
					for _, f := range []string{"limitk", "mad_over_time", "histogram_avg", "histogram_stddev", "info("} {
						if strings.Contains(r.Expr, f) {
							t.Errorf("rule %s%s uses %s, unknown to Prometheus 2.42", r.Record, r.Alert, f)
						}
					}
					if r.Alert == "" {
						continue
					}
					alerts[r.Alert] = true
					if r.Labels[c.LabelSeverity] == "" {
						t.Errorf("alert %s has no severity", r.Alert)
					}
					for _, a := range []string{"summary", "description", "runbook_url"} {
						if r.Annotations[a] == "" {
							t.Errorf("alert %s has no %s", r.Alert, a)
						}
					}
				}
			}
			for _, a := range []string{c.AlertLatencyAboveBaseline, c.AlertSystemSuccessBurn, c.AlertBusinessSuccessBurn,
				c.AlertLoadNotReached, c.AlertLoaderDown, c.AlertRunDataAbsent, c.AlertBaselineMissing} {
				if !alerts[a] {
					t.Errorf("alert %s is not generated", a)
				}
			}
		})
	}
}

func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

func promtool(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPromtool runs Prometheus 2.42's promtool on the generated files: the
// rules load, and every alert fires on its degraded series and stays quiet
// on healthy ones.
func TestPromtool(t *testing.T) {
	t.Parallel()
	bin := testservers.Need(t, "promtool")
	for name, o := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			dir := writeFiles(t, files)
			if out, err := promtool(t, bin, dir, "check", "rules", RulesFile); err != nil {
				t.Fatalf("promtool check rules: %v\n%s", err, out)
			}
			if out, err := promtool(t, bin, dir, "test", "rules", TestsFile); err != nil {
				t.Fatalf("promtool test rules: %v\n%s", err, out)
			}
		})
	}
}

// TestPromtoolCatchesWrongRules shows the generated tests can fail: rules
// generated with other thresholds than the tests expect must not pass.
func TestPromtoolCatchesWrongRules(t *testing.T) {
	t.Parallel()
	bin := testservers.Need(t, "promtool")
	mutations := map[string]func(*Options){
		// The slow series is ~5x the baseline: a 10x tolerance hides it.
		"latency tolerance": func(o *Options) { o.LatencyTolerance = 10 },
		// With every request failing, a 1000x factor no longer fires.
		"burn factor":    func(o *Options) { o.BurnRates[0].Factor = 1000 },
		"drop tolerance": func(o *Options) { o.DropTolerance = 0.5 },
		"loader job":     func(o *Options) { o.LoaderJob = "other" },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			good := DefaultOptions()
			files, err := Generate(good)
			if err != nil {
				t.Fatal(err)
			}
			bad := DefaultOptions()
			mutate(&bad)
			rules, err := Generate(bad)
			if err != nil {
				t.Fatal(err)
			}
			files[RulesFile] = rules[RulesFile]
			dir := writeFiles(t, files)
			out, err := promtool(t, bin, dir, "test", "rules", TestsFile)
			if err == nil {
				t.Fatalf("promtool test rules passed on rules generated with a different %s:\n%s", name, out)
			}
			if !strings.Contains(out, "FAILED") {
				t.Fatalf("promtool failed without a test failure: %v\n%s", err, out)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultOptions().validate(); err != nil {
		t.Fatalf("DefaultOptions: %v", err)
	}
	for name, tc := range map[string]struct {
		mutate func(*Options)
		want   string
	}{
		"no runbook":       {func(o *Options) { o.RunbookURL = "" }, "alerts: RunbookURL:"},
		"bad quantile":     {func(o *Options) { o.LatencyQuantiles = []string{"p99"} }, `"p99" is not a latency baseline key`},
		"zero tolerance":   {func(o *Options) { o.LatencyTolerance = 0 }, "alerts: LatencyTolerance: 0 must be > 0"},
		"short window":     {func(o *Options) { o.LatencyWindow = model.Duration(time.Second) }, "alerts: LatencyWindow:"},
		"no burn rates":    {func(o *Options) { o.BurnRates = nil }, "alerts: BurnRates:"},
		"inverted windows": {func(o *Options) { o.BurnRates[0].Short = o.BurnRates[0].Long }, "alerts: BurnRates[0]: windows 1h/1h"},
		"objective 1":      {func(o *Options) { o.MaxObjective = 1 }, "alerts: MaxObjective: 1 must be in (0, 1)"},
		"bad interface": {func(o *Options) {
			o.Objectives = []Objective{{Interface: "Bad-Name", SystemSuccess: 0.9}}
		}, `alerts: Objectives[0].Interface: "Bad-Name"`},
		"duplicate interface": {func(o *Options) {
			o.Objectives = []Objective{{Interface: "a", SystemSuccess: 0.9}, {Interface: "a", SystemSuccess: 0.9}}
		}, `alerts: Objectives[1].Interface: "a" appears twice`},
		"ratio above 1": {func(o *Options) { o.Objectives = []Objective{{Interface: "a", BusinessSuccess: 1.5}} },
			"alerts: Objectives[0].BusinessSuccess: 1.5 must be in [0, 1]"},
		"drop tolerance": {func(o *Options) { o.DropTolerance = 0 }, "alerts: DropTolerance:"},
		"quoted job":     {func(o *Options) { o.LoaderJob = `a"b` }, "alerts: LoaderJob:"},
		"negative for":   {func(o *Options) { o.LatencyFor = -1 }, "alerts: LatencyFor:"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := DefaultOptions()
			tc.mutate(&o)
			err := o.validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validate() = %v, want an error containing %q", err, tc.want)
			}
			if _, err := Generate(o); err == nil {
				t.Fatal("Generate accepted invalid options")
			}
		})
	}
}

// TestExamples checks the shipped examples with the real tools: the
// Alertmanager routing with amtool, the generated example rules with promtool.
func TestExamples(t *testing.T) {
	t.Parallel()
	t.Run("alertmanager", func(t *testing.T) {
		t.Parallel()
		amtool := testservers.Need(t, "amtool")
		if out, err := promtool(t, amtool, ".", "check-config", "../examples/alertmanager/alertmanager.yml"); err != nil {
			t.Fatalf("amtool check-config: %v\n%s", err, out)
		}
		// Each severity reaches its receiver.
		for sev, want := range map[string]string{c.SeverityCritical: "perf-oncall-pager", c.SeverityWarning: "perf-team-tickets"} {
			out, err := promtool(t, amtool, ".", "config", "routes", "test", "--config.file=../examples/alertmanager/alertmanager.yml",
				"alertname="+c.AlertLatencyAboveBaseline, c.LabelSeverity+"="+sev)
			// amtool prints a warning line before the receiver.
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if got := lines[len(lines)-1]; err != nil || got != want {
				t.Errorf("severity %s routes to %q (%v), want %s", sev, got, err, want)
			}
		}
	})
	t.Run("prometheus rules", func(t *testing.T) {
		t.Parallel()
		bin := testservers.Need(t, "promtool")
		if out, err := promtool(t, bin, "../examples/prometheus/rules", "test", "rules", TestsFile); err != nil {
			t.Fatalf("promtool test rules on the example: %v\n%s", err, out)
		}
		if out, err := promtool(t, bin, "../examples/prometheus", "check", "config", "prometheus.yml"); err != nil {
			t.Fatalf("promtool check config on the example: %v\n%s", err, out)
		}
	})
}
