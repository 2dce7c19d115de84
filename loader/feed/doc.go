// Package feed gives load requests their per-request test data: data sets
// read from CSV or JSON-lines files, pickers that hand out their rows in
// order, at random or each at most once, and templates that put a row's
// values, the run id, a sequence number or a UUID into a request's path,
// headers and body, escaped for where they go.
//
// It is pure: the scenario package compiles templates against the data
// sets when it validates a file, and the engine renders them per request.
package feed
