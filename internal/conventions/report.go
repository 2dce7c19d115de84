package conventions

// AlertRegression is the alert `perfbase report --notify-alertmanager`
// posts for each interface metric that regressed against its baseline,
// labelled with LabelInterface, LabelMetric and LabelSeverity.
const AlertRegression = "PerfbaseRegression"
