package analyzer

// Trend is a gradual change of an interface's daily series: a move from
// one level to another spread over four weeks or more ("p99 has risen 30%
// since March"), which a search for steps would cut into steps each too
// small to report, or miss.
type Trend struct {
	Metric string `json:"metric"`
	// Start is the last day at the old level and End the first at the new
	// one (YYYY-MM-DD in the report's zone); when Ongoing, the trend is
	// still under way and End is the last day with data.
	Start   string `json:"start"`
	End     string `json:"end"`
	Ongoing bool   `json:"ongoing"`
	// Before and After are the fitted levels at Start and End.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Change is relative (after/before - 1) for latency, absolute (after -
	// before) for ratios, as for change points.
	Change float64 `json:"change"`
	// SlopePer30d is the change over 30 days at the trend's pace, in the
	// terms of Change (relative and compounded for latency).
	SlopePer30d float64 `json:"slope_per_30d"`
}
