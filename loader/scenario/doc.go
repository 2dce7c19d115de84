// Package scenario reads and validates perfbase scenario files: the target,
// the business interfaces with their success rules, the load stages, the
// thresholds and the guard. The format is public: loader.Run takes a
// *Scenario, and other programs may read, check or build scenarios with it.
//
// Loading is strict and complete. The YAML is decoded onto the Default*
// values, rejecting unknown keys, and then every field is validated; all
// problems are returned at once as Errors, each naming the file, line,
// column and field, so a user fixes a file in one pass. Nothing is sent to a
// target before a scenario has loaded without error.
//
// Header values and the body may reference environment variables as ${NAME},
// so tokens need not be written into scenario files. Values of sensitive
// headers (see IsSensitiveHeader) are never part of an error message.
package scenario
