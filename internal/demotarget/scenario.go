package demotarget

import (
	_ "embed"
	"strings"
)

//go:embed scenario.yml
var scenarioYAML string

// Scenario returns the demo scenario aimed at targetURL.
func Scenario(targetURL string) []byte {
	return []byte(strings.Replace(scenarioYAML, "TARGET", targetURL, 1))
}
