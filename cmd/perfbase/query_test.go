package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/perfbase/perfbase/internal/store"
)

// seedStore writes m_total{s="a"|"b"} = minute index, one sample a minute
// for an hour from 2025-01-01T00:00Z, and closes the store.
func seedStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	ctx := context.Background()
	b, err := db.NewBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 60 {
		for _, s := range []string{"a", "b"} {
			if err := b.Append(ctx, labels.FromStrings("__name__", "m_total", "s", s), start.Add(time.Duration(i)*time.Minute).UnixMilli(), float64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestQueryCommand(t *testing.T) {
	t.Parallel()
	dir := seedStore(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{
			name: "instant table",
			args: []string{"--time", "2025-01-01T00:30:00Z", "sum by (s) (m_total)"},
			want: []string{"SERIES", `{s="a"}  30`, `{s="b"}  30`},
		},
		{
			name: "range table",
			args: []string{"--start", "2025-01-01T00:10:00Z", "--end", "2025-01-01T00:12:00Z", "--step", "1m", `m_total{s="a"}`},
			want: []string{"2025-01-01T00:10:00Z  10", "2025-01-01T00:12:00Z  12"},
		},
		{
			name: "unix seconds and scalar",
			args: []string{"--time", "1735689600", "scalar(sum(m_total))"},
			want: []string{"VALUE", "0"},
		},
		{
			name:     "bad promql",
			args:     []string{"sum(m_total"},
			wantCode: exitBadInput,
			want:     []string{"bad_query"},
		},
		{
			name:     "bad time",
			args:     []string{"--time", "yesterday", "m_total"},
			wantCode: exitBadInput,
			want:     []string{"--time"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"query", "--data-dir", dir}, tt.args...)
			code, out, errOut := perfbase(t, args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}

func TestQueryCommandJSON(t *testing.T) {
	t.Parallel()
	dir := seedStore(t)
	code, out, errOut := perfbase(t, "query", "--data-dir", dir, "--format", "json", "--time", "2025-01-01T00:05:00Z", `m_total{s="b"}`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.ResultType != "vector" || len(got.Result) != 1 || got.Result[0].Value[1] != "5" || got.Result[0].Metric["s"] != "b" {
		t.Fatalf("unexpected result: %+v", got)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"now-1h", now.Add(-time.Hour)},
		{"now-30d", now.AddDate(0, 0, -30)},
		{"1735689600", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2025-01-01T00:00:00Z", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseTime("tomorrow", now); err == nil {
		t.Error("parseTime(tomorrow) gave no error")
	}
}
