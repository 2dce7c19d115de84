package analyzer

import (
	"encoding/json"
	"os"
	"testing"
)

// writeJSON writes b without validation; version2 sets version 2.
func writeJSON(t *testing.T, path string, b *Baseline, version2 bool) {
	t.Helper()
	if version2 {
		b.Version = 2
	}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
