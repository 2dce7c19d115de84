package analyzer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/analyzer/render"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	rep := analyzer.SharedReport(t)
	tests := []struct {
		format render.Format
		opts   render.Options
		golden string
	}{
		{render.FormatTable, render.Options{}, "report.table.golden"},
		{render.FormatTable, render.Options{Color: true}, "report.table-color.golden"},
		{render.FormatMarkdown, render.Options{}, "report.md.golden"},
		{render.FormatJSON, render.Options{}, "report.json.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := render.Render(&buf, rep, tc.format, tc.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from golden (run with -update to accept):\n%s", tc.golden, buf.String())
			}
		})
	}
	if err := render.Render(&bytes.Buffer{}, rep, "pdf", render.Options{}); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestHTMLRendersInChromium loads the HTML report in headless Chromium and
// checks that the browser laid out every chart's lines.
func TestHTMLRendersInChromium(t *testing.T) {
	t.Parallel()
	chromium := testservers.Need(t, "chromium")
	rep := analyzer.SharedReport(t)
	var buf bytes.Buffer
	if err := render.Render(&buf, rep, render.FormatHTML, render.Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "http://") && regexp.MustCompile(`(src|href)="https?://`).MatchString(page) {
		t.Fatal("report loads something from the network")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), analyzer.TestQueryTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=5000", "--dump-dom", "file://"+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := string(out)
	want := 3 * len(rep.Interfaces)
	// the page's load handler counts the charts whose lines have a width
	m := regexp.MustCompile(`<body data-charts="(\d+)"`).FindStringSubmatch(dom)
	if m == nil || m[1] != strconv.Itoa(want) {
		t.Fatalf("charts rendered: %v, want %d", m, want)
	}
	if !strings.Contains(dom, `class="mark"`) {
		t.Error("no change point marked in the daily charts")
	}
}

// TestTrendsRendered: trends appear in every format.
func TestTrendsRendered(t *testing.T) {
	t.Parallel()
	rep := &analyzer.Report{Month: "2025-06", Timezone: "UTC", Verdict: analyzer.VerdictStable, Interfaces: []analyzer.InterfaceReport{{
		Name: "recharge", Verdict: analyzer.VerdictStable, Metrics: map[string]*analyzer.MetricResult{}, ChangePoints: []analyzer.ChangePoint{},
		Trends: []analyzer.Trend{{Metric: c.BaselineLatencyP99, Start: "2025-02-03", End: "2025-06-30", Ongoing: true,
			Before: 0.120, After: 0.160, Change: 1.0 / 3, SlopePer30d: 0.0695}},
	}}}
	for _, key := range []string{c.BaselineLatencyP50, c.BaselineLatencyP90, c.BaselineLatencyP99, c.BaselineBusinessSuccess, c.BaselineSystemSuccess, c.BaselineThroughput} {
		rep.Interfaces[0].Metrics[key] = &analyzer.MetricResult{Baseline: analyzer.Num(math.NaN()), Current: analyzer.Num(math.NaN()), Change: analyzer.Num(math.NaN()), PValue: analyzer.Num(math.NaN()), QValue: analyzer.Num(math.NaN()), Verdict: analyzer.VerdictStable}
	}
	want := "since 2025-02-03 (ongoing) latency_p99_seconds: 120ms -> 160ms (+33.3%, +7.0% per 30 days)"
	for _, f := range []render.Format{render.FormatTable, render.FormatMarkdown, render.FormatHTML, render.FormatJSON} {
		var b bytes.Buffer
		if err := render.Render(&b, rep, f, render.Options{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := b.String()
		switch f {
		case render.FormatJSON:
			var back analyzer.Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if got := back.Interfaces[0].Trends; len(got) != 1 || got[0] != rep.Interfaces[0].Trends[0] {
				t.Errorf("json trends: %+v", got)
			}
		case render.FormatHTML:
			if !strings.Contains(out, "since 2025-02-03 (ongoing) latency_p99_seconds: 120ms -&gt; 160ms") {
				t.Errorf("html lacks the trend:\n%s", out)
			}
		default:
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", f, want, out)
			}
		}
	}
}

func init() {
	*analyzer.RenderHook = func(r *analyzer.Report) error {
		if err := render.Render(io.Discard, r, render.FormatJSON, render.Options{}); err != nil {
			return err
		}
		return render.Render(io.Discard, r, render.FormatHTML, render.Options{})
	}
}
