package analyzer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/perfbase/perfbase/analyzer/synth"
)

// BenchmarkAnalysis1000x12 measures the analyzer's own work for a report
// of 1,000 interfaces over 12 months of daily values: verdicts with one
// Benjamini-Hochberg step over 7,000 tests, change points over a year of
// days per interface, and the JSON and HTML renderings. Querying is
// measured by BenchmarkReportEmbedded.
func BenchmarkAnalysis1000x12(b *testing.B) {
	const n = 1000
	o := DefaultOptions()
	o.TrendMonths = 12
	report := Month{2025, time.December}
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := synth.Config{Start: report.Add(-11).Start(time.UTC), End: report.End(time.UTC), Seed: 1, Weekly: 0.15, MissingDays: 0.05}
	for i := range n {
		in := randomInterface(rng, fmt.Sprintf("if_%04d", i))
		if i%10 == 0 {
			in.Changes = []synth.Change{randomChange(rng, synth.LatencyStep, report.Start(time.UTC))}
		}
		cfg.Interfaces = append(cfg.Interfaces, in)
	}
	states := cfg.Days()
	days := map[string][]Day{}
	base := &Baseline{Version: BaselineVersion, Timezone: "UTC", Source: Source{Kind: SourcePreviousMonths}}
	cur := map[string]*BaselineInterface{}
	var names []string
	bstart := report.Add(-o.BaselineMonths).Start(time.UTC)
	for _, in := range cfg.Interfaces {
		d := sampledDays(rng, states[in.Name])
		days[in.Name] = d
		base.Interfaces = append(base.Interfaces, *periodFromDays(in.Name, states[in.Name], d, bstart, report.Start(time.UTC)))
		cur[in.Name] = periodFromDays(in.Name, states[in.Name], d, report.Start(time.UTC), report.End(time.UTC))
		names = append(names, in.Name)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		results := verdicts(base, cur, names, o)
		rep := &Report{Month: report.String(), Timezone: "UTC", Baseline: base.Source}
		for i, name := range names {
			ir := InterfaceReport{Name: name, Verdict: overall(results[i]), Metrics: map[string]*MetricResult{}, Daily: days[name]}
			for _, r := range results[i] {
				ir.Metrics[metricKey(r)] = r
			}
			rep.Interfaces = append(rep.Interfaces, ir)
		}
		findInterfaceChanges(rep.Interfaces, o)
		if err := renderHook(rep); err != nil { // JSON and HTML, set by render_test.go
			b.Fatal(err)
		}
	}
}

func metricKey(r *MetricResult) string { return metricName(r.metric) }

// BenchmarkReportEmbedded measures a whole report, queries included, on
// the embedded store: 50 interfaces, 12 months of continuous traffic
// sampled every 6 hours (the query cost grows with interfaces x samples).
func BenchmarkReportEmbedded(b *testing.B) {
	report := Month{2025, time.December}
	cfg := synth.Config{Start: report.Add(-11).Start(time.UTC), End: report.End(time.UTC), Seed: 1, Weekly: 0.15,
		Continuous: true, Interval: 6 * time.Hour}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		cfg.Interfaces = append(cfg.Interfaces, randomInterface(rng, fmt.Sprintf("if_%02d", i)))
	}
	db := openStore(b, cfg)
	o := fixedOptions()
	o.TrendMonths, o.Resolution = 12, 12*time.Hour
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := BuildReport(context.Background(), db.Querier(), o, BaselineOptions{}, report); err != nil {
			b.Fatal(err)
		}
	}
}
