package analyzer

import "testing"

// What the external tests (package analyzer_test, which may import
// analyzer/render) need from the package's own test fixtures.
var (
	SharedReport     = func(t *testing.T) *Report { r, _ := sharedReport(t); return r }
	TestQueryTimeout = testQueryTimeout
	// RenderHook renders a report in BenchmarkAnalysis; render_test.go sets it.
	RenderHook = &renderHook
)

// renderHook is replaced by render_test.go's init; by default it does nothing.
var renderHook = func(*Report) error { return nil }
