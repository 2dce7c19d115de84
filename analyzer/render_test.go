package analyzer

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	rep, _ := sharedReport(t)
	tests := []struct {
		format Format
		opts   RenderOptions
		golden string
	}{
		{FormatTable, RenderOptions{}, "report.table.golden"},
		{FormatTable, RenderOptions{Color: true}, "report.table-color.golden"},
		{FormatMarkdown, RenderOptions{}, "report.md.golden"},
		{FormatJSON, RenderOptions{}, "report.json.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := rep.Render(&buf, tc.format, tc.opts); err != nil {
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
	if err := rep.Render(&bytes.Buffer{}, "pdf", RenderOptions{}); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestHTMLRendersInChromium loads the HTML report in headless Chromium and
// checks that the browser laid out every chart's lines.
func TestHTMLRendersInChromium(t *testing.T) {
	t.Parallel()
	chromium := testservers.Need(t, "chromium")
	rep, _ := sharedReport(t)
	var buf bytes.Buffer
	if err := rep.Render(&buf, FormatHTML, RenderOptions{}); err != nil {
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
	ctx, cancel := context.WithTimeout(context.Background(), testQueryTimeout)
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
	rep := &Report{Month: "2025-06", Timezone: "UTC", Verdict: VerdictStable, Interfaces: []InterfaceReport{{
		Name: "recharge", Verdict: VerdictStable, Metrics: map[string]*MetricResult{}, ChangePoints: []ChangePoint{},
		Trends: []Trend{{Metric: c.BaselineLatencyP99, Start: "2025-02-03", End: "2025-06-30", Ongoing: true,
			Before: 0.120, After: 0.160, Change: 1.0 / 3, SlopePer30d: 0.0695}},
	}}}
	for _, key := range tableMetrics {
		rep.Interfaces[0].Metrics[key] = &MetricResult{Baseline: nan(), Current: nan(), Change: nan(), PValue: nan(), QValue: nan(), Verdict: VerdictStable}
	}
	want := "since 2025-02-03 (ongoing) latency_p99_seconds: 120ms -> 160ms (+33.3%, +7.0% per 30 days)"
	for _, f := range []Format{FormatTable, FormatMarkdown, FormatHTML, FormatJSON} {
		var b bytes.Buffer
		if err := rep.Render(&b, f, RenderOptions{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := b.String()
		switch f {
		case FormatJSON:
			var back Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if got := back.Interfaces[0].Trends; len(got) != 1 || got[0] != rep.Interfaces[0].Trends[0] {
				t.Errorf("json trends: %+v", got)
			}
		case FormatHTML:
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
