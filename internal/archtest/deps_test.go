package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestForbiddenDependencies keeps heavy or one-way dependencies out of the
// packages that must not have them: the analyzer reads metrics through a
// Querier and must not link the TSDB or the PromQL engine (the embedded
// store is cmd's choice); the loader records through its own Recorder and
// never links the exporter or a metrics library.
func TestForbiddenDependencies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{"github.com/perfbase/perfbase/analyzer", []string{
			"github.com/prometheus/prometheus/tsdb",
			"github.com/prometheus/prometheus/promql",
			"github.com/perfbase/perfbase/internal/store",
			"github.com/perfbase/perfbase/internal/backend",
			"github.com/prometheus/client_golang/prometheus",
		}},
		{"github.com/perfbase/perfbase/loader", []string{
			"github.com/perfbase/perfbase/exporter",
			"github.com/prometheus/client_golang/prometheus",
			"github.com/VictoriaMetrics/metrics",
			"github.com/prometheus/prometheus/tsdb",
		}},
		{"github.com/perfbase/perfbase/loader/scenario", []string{
			"github.com/perfbase/perfbase/exporter",
			"github.com/perfbase/perfbase/analyzer",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.pkg, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("go", "list", "-deps", tc.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", tc.pkg, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 {
				t.Fatalf("go list -deps %s listed %d packages: not a real listing", tc.pkg, len(deps))
			}
			for _, d := range deps {
				for _, f := range tc.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s depends on %s", tc.pkg, d)
					}
				}
			}
		})
	}
}
