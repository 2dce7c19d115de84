//go:build race

package analyzer

// raceEnabled shrinks the accuracy suites under the race detector, which
// slows the query engine tenfold; the full suites run without it.
const raceEnabled = true
