package runrecord

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/internal/backend"
	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

// TestRoundTripThroughServers writes records into a real Prometheus
// (backfilled with promtool) and a real VictoriaMetrics (import API) and
// reads them back through their HTTP APIs with Query and Decode: the
// layout must hold on the servers users run, not only embedded.
func TestRoundTripThroughServers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts Prometheus and VictoriaMetrics")
	}
	promtool := testservers.Need(t, "promtool")
	testservers.Need(t, "prometheus")
	testservers.Need(t, "victoria-metrics")

	day := time.Date(2025, 2, 10, 9, 0, 0, 0, time.UTC)
	want := []Record{
		synthRun(t, testMeta("run-1", "checkout", "1/2"), day, 6*time.Minute+50*time.Second),
		synthRun(t, testMeta("run-1", "checkout", "2/2"), day.Add(4*time.Millisecond), 7*time.Minute),
		synthRun(t, testMeta("run-2", "checkout", "1/1"), day.Add(24*time.Hour), 75*time.Minute),
	}
	samples := encode(t, want...)
	slices.SortStableFunc(samples, func(a, b Sample) int {
		return cmp.Or(labels.Compare(a.Labels, b.Labels), cmp.Compare(a.T, b.T))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Prometheus: OpenMetrics with second timestamps -> promtool blocks.
	dir := t.TempDir()
	om := filepath.Join(dir, "records.om")
	var text bytes.Buffer
	for _, s := range samples {
		fmt.Fprintf(&text, "%s %s %s\n", seriesText(s.Labels), strconv.FormatFloat(s.V, 'g', -1, 64), strconv.FormatFloat(float64(s.T)/1000, 'f', 3, 64))
	}
	text.WriteString("# EOF\n")
	if err := os.WriteFile(om, text.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks := filepath.Join(dir, "prom")
	if out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=1458h", om, blocks).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	prom := testservers.Prometheus(t, "", "--storage.tsdb.path="+blocks)

	// VictoriaMetrics: Prometheus text with millisecond timestamps.
	vm := testservers.VictoriaMetrics(t)
	text.Reset()
	for _, s := range samples {
		fmt.Fprintf(&text, "%s %s %d\n", seriesText(s.Labels), strconv.FormatFloat(s.V, 'g', -1, 64), s.T)
	}
	httpDo(ctx, t, http.MethodPost, vm.URL+"/api/v1/import/prometheus", &text)
	httpDo(ctx, t, http.MethodGet, vm.URL+"/internal/force_flush", nil)

	q := Query{Range: 7 * 24 * time.Hour, Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, c.LabelScenario, "checkout")}}
	exprs, err := q.Exprs()
	if err != nil {
		t.Fatal(err)
	}
	at := day.Add(3 * 24 * time.Hour)
	for name, url := range map[string]string{"prometheus": prom.URL, "victoriametrics": vm.URL} {
		r, err := backend.NewRemote(backend.RemoteOptions{URL: url, Timeout: time.Minute, HTTP: config.DefaultHTTPClientConfig})
		if err != nil {
			t.Fatal(err)
		}
		var mats []model.Matrix
		for _, e := range exprs {
			v, err := r.Query(ctx, e, at)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, e, err)
			}
			mat, ok := v.(model.Matrix)
			if !ok {
				t.Fatalf("%s: %s returned %s, want a matrix", name, e, v.Type())
			}
			mats = append(mats, mat)
		}
		got, err := Decode(mats...)
		if err != nil {
			t.Errorf("%s: Decode: %v", name, err)
		}
		w := want
		if name == "victoriametrics" {
			// It keeps about 12 significant digits of a value: exact for
			// counts and times, not for the last digits of a latency.
			got, w = roundLatencies(got), roundLatencies(want)
		}
		if d := diffRecords(got, w); d != "" {
			t.Errorf("%s: records read back differ:\n%s", name, d)
		}
	}
}

// seriesText writes a series in the text formats: name{l="v",...}.
func seriesText(ls labels.Labels) string {
	var parts []string
	ls.Range(func(l labels.Label) {
		if l.Name != model.MetricNameLabel {
			v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(l.Value)
			parts = append(parts, l.Name+`="`+v+`"`)
		}
	})
	return ls.Get(model.MetricNameLabel) + "{" + strings.Join(parts, ",") + "}"
}

func httpDo(ctx context.Context, t *testing.T, method, url string, body *bytes.Buffer) {
	t.Helper()
	var r *http.Request
	var err error
	if body == nil {
		r, err = http.NewRequestWithContext(ctx, method, url, nil)
	} else {
		r, err = http.NewRequestWithContext(ctx, method, url, body)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
}

// roundLatencies returns a copy of recs with window latencies rounded to
// 10 significant digits.
func roundLatencies(recs []Record) []Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].Interfaces = slices.Clone(out[i].Interfaces)
		for j := range out[i].Interfaces {
			ws := slices.Clone(out[i].Interfaces[j].Windows)
			for k := range ws {
				ws[k].Latency = slices.Clone(ws[k].Latency)
				for q, v := range ws[k].Latency {
					ws[k].Latency[q], _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 10, 64), 64)
				}
			}
			out[i].Interfaces[j].Windows = ws
		}
	}
	return out
}
