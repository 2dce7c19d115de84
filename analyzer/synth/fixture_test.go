package synth

import "time"

// fixture returns a test history: `months` months of
// nightly runs ending before end, for the demo service's interfaces (the
// names of examples/mixed.yml), with weekly patterns, noise, a few missing
// nights, and one interface, recharge, 35% slower from the first day of
// the last month.
func fixture(end time.Time, months int, loc *time.Location) Config {
	if loc == nil {
		loc = time.UTC
	}
	end = end.In(loc)
	last := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, loc)
	if !last.Before(end) {
		last = last.AddDate(0, -1, 0)
	}
	return Config{
		Start: last.AddDate(0, -(months - 1), 0), End: end, Location: loc, Seed: 42,
		Weekly: 0.15, MissingDays: 0.04, RunDuration: 5 * time.Minute,
		Interfaces: []Interface{
			{Name: "query_balance", RPS: 30, Median: 8 * time.Millisecond, Sigma: 0.35, BusinessFailure: 0.005, SystemFailure: 0.001},
			{Name: "query_bill", RPS: 15, Median: 15 * time.Millisecond, Sigma: 0.4, BusinessFailure: 0.01, SystemFailure: 0.001},
			{Name: "recharge", RPS: 10, Median: 25 * time.Millisecond, Sigma: 0.5, BusinessFailure: 0.02, SystemFailure: 0.002,
				Changes: []Change{{Kind: LatencyStep, At: last, Size: 0.35}}},
		},
	}
}
