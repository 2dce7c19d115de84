package loader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/perfbase/perfbase/loader/scenario"
)

// TestExecSteps: commands run without a shell from the scenario's
// directory; a failing or slow one fails its list, with its output, and a
// failed set-up sends no load.
func TestExecSteps(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		name, setup string
		ok          bool
		errHas      string
	}{
		{"runs in the scenario's directory", `[{name: mark, exec: [touch, made-by-setup]}]`, true, ""},
		{"no shell", `[{name: glob, exec: [ls, "*.nothing"]}]`, false, "*.nothing"},
		{"exit status", `[{name: fails, exec: [sh, -c, "echo bad input >&2; exit 3"]}]`, false, "exit status 3: bad input"},
		{"timeout", `[{name: slow, exec: [sleep, "5"], timeout: 200ms}]`, false, "timed out after 200ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "s.yml")
			s, err := scenario.Parse(fmt.Appendf(nil, `name: steps
target: %s
setup: %s
interfaces:
  - {name: q, path: /}
stages:
  - {duration: 200ms, rate: 20}
`, srv.URL, c.setup), file)
			if err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			sum, err := Run(context.Background(), s, Options{})
			if len(sum.Setup) != 1 || sum.Setup[0].OK != c.ok || sum.Setup[0].Kind != "exec" {
				t.Fatalf("setup %+v, want ok=%v", sum.Setup, c.ok)
			}
			if !c.ok {
				if !errors.Is(err, ErrSetupFailed) || hits.Load() != before {
					t.Errorf("err %v, %d requests sent after a failed set-up", err, hits.Load()-before)
				}
				if !strings.Contains(sum.Setup[0].Error, c.errHas) {
					t.Errorf("error %q does not say %q", sum.Setup[0].Error, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "made-by-setup")); err != nil {
				t.Errorf("the command did not run in the scenario's directory: %v", err)
			}
		})
	}
}
