package conventions

import "testing"

func TestValidInterfaceName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"query_balance": true,
		"a":             true,
		"a_":            true,
		"a__b2":         true,
		"":              false,
		"_a":            false,
		"9a":            false,
		"Query":         false,
		"a-b":           false,
		"a b":           false,
		"a\n":           false,
		"é":             false,
	} {
		if got := ValidInterfaceName(name); got != want {
			t.Errorf("ValidInterfaceName(%q) = %v, want %v", name, got, want)
		}
	}
}
