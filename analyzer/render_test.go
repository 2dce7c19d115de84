package analyzer

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
