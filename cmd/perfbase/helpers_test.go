package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/internal/demotarget"
)

// perfbase runs the command in-process and returns its exit code and output.
func perfbase(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds perfbase once per test process, for tests that need a real
// process (signals, SIGKILL).
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "perfbase-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "perfbase")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// demoTarget starts the demo service on loopback and counts its hits.
func demoTarget(t *testing.T) (*httptest.Server, *demotarget.Server, *atomic.Int64) {
	t.Helper()
	d := demotarget.New()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		d.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, d, &hits
}

// writeScenario writes a scenario file, with TARGET replaced.
func writeScenario(t *testing.T, target, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scenario.yml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "TARGET", target)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// exposition parses a text exposition into samples.
func exposition(t *testing.T, text string) model.Vector {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	var out model.Vector
	for _, mf := range mfs {
		v, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, mf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v...)
	}
	return out
}

// sumBy sums the samples of one metric by the values of a label.
func sumBy(v model.Vector, metric, label string, match map[string]string) map[string]float64 {
	out := map[string]float64{}
next:
	for _, s := range v {
		if string(s.Metric[model.MetricNameLabel]) != metric {
			continue
		}
		for k, want := range match {
			if string(s.Metric[model.LabelName(k)]) != want {
				continue next
			}
		}
		out[string(s.Metric[model.LabelName(label)])] += float64(s.Value)
	}
	return out
}
