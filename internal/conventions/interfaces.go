package conventions

import "regexp"

// InterfaceNamePattern is what every interface name, the value of
// LabelInterface, matches: a lower-case letter, then lower-case letters,
// digits and underscores. Such a name needs no quoting or escaping in
// PromQL, YAML, file names or URLs. Error messages quote the pattern.
const InterfaceNamePattern = `[a-z][a-z0-9_]*`

var interfaceName = regexp.MustCompile(`^` + InterfaceNamePattern + `$`)

// ValidInterfaceName reports whether name matches InterfaceNamePattern. Scenario
// files, baselines, alert objectives and importer map rules all check names
// with it.
func ValidInterfaceName(name string) bool { return interfaceName.MatchString(name) }
