package analyzer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
)

func sampleBaseline() *Baseline {
	return &Baseline{
		Version:  BaselineVersion,
		Created:  time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
		Timezone: "UTC",
		Source: Source{Kind: SourcePreviousMonths, Months: []string{"2025-01", "2025-02", "2025-03"},
			Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		Interfaces: []BaselineInterface{{
			Name: "query_balance", Requests: 1000,
			Metrics: map[string]float64{conventions.BaselineLatencyP99: 0.25, conventions.BaselineSystemSuccess: 0.999},
			Counts:  &Counts{Success: 990, BusinessFailure: 9, SystemFailure: 1, Scheduled: 1000},
			Daily:   map[string][]float64{conventions.BaselineLatencyP99: {0.24, 0.26}},
			Buckets: []float64{0.1, 0.2, 0.5},
		}},
	}
}

func TestBaselineSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "b.json")
	b := sampleBaseline()
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source.String() != "2025-01..2025-03" || got.Interface("query_balance").Metrics[conventions.BaselineLatencyP99] != 0.25 {
		t.Fatalf("round trip lost data: %+v", got)
	}
	if got.Interface("nope") != nil {
		t.Fatal("unknown interface found")
	}
}

func TestLoadBaselineInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Baseline)
		raw    string
		want   []string
		is     error
	}{
		{name: "version", mutate: func(b *Baseline) { b.Version = 2 }, want: []string{"unsupported baseline version 2"}, is: ErrBaselineVersion},
		{name: "many", mutate: func(b *Baseline) {
			b.Timezone = "Mars/Olympus"
			b.Interfaces = append(b.Interfaces, b.Interfaces[0])
			b.Interfaces[0].Metrics["latency_p42"] = 1
			b.Interfaces[0].Buckets = []float64{2, 1}
		}, want: []string{`timezone: unknown time zone "Mars/Olympus"`, `interfaces[1].name: duplicate interface "query_balance"`,
			`interfaces[0].metrics: unknown metric "latency_p42"`, "interfaces[0].buckets: bounds are not ascending"}, is: ErrBaselineInvalid},
		{name: "syntax", raw: "{\n\"version\": 1,\n]", want: []string{"b.json:3: invalid baseline"}, is: ErrBaselineInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "b.json")
			if tc.raw != "" {
				if err := os.WriteFile(path, []byte(tc.raw), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				b := sampleBaseline()
				tc.mutate(b)
				if err := b.Save(path); err == nil {
					t.Fatal("Save accepted an invalid baseline")
				}
				b.Version, b.Created = BaselineVersion, time.Time{}
				// write it anyway, bypassing validation, to test the reader
				writeJSON(t, path, b, tc.name == "version")
			}
			_, err := LoadBaseline(path)
			if err == nil || !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// FuzzLoadBaseline: any file content gives a baseline or an error, never a panic.
func FuzzLoadBaseline(f *testing.F) {
	// Small seeds: the fuzzer minimises a failing input from its seed, and a
	// large seed costs it minutes.
	f.Add([]byte(`{"version":1,"created":"2025-04-01T00:00:00Z","timezone":"UTC","source":{"kind":"previous_months","months":["2025-01"]},"interfaces":[{"name":"a","requests":10,"metrics":{"latency_p99_seconds":0.2},"buckets":[0.1,0.2]}]}`))
	f.Add([]byte(`{"version":1,"timezone":"UTC","source":{"kind":"runs"},"interfaces":[],"runs":[{"run_id":"r","scenario":"s","interfaces":[{"name":"a","counts":{"success":1},"buckets":[1]}]}]}`))
	f.Add([]byte(`{"version":1,"timezone":"UTC","source":{"kind":"month"},"interfaces":[{"name":"a","metrics":{"latency_p99_seconds":-1}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "b.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if bl, err := LoadBaseline(path); err == nil && bl.Version != BaselineVersion {
			t.Fatalf("accepted version %d", bl.Version)
		}
	})
}

func TestParseMonth(t *testing.T) {
	t.Parallel()
	m, err := ParseMonth("2024-02")
	if err != nil || m.String() != "2024-02" || m.Add(-2).String() != "2023-12" || m.End(time.UTC).Day() != 1 ||
		m.End(time.UTC).Sub(m.Start(time.UTC)) != 29*24*time.Hour {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"2024-13", "24-02", "2024/02", ""} {
		if _, err := ParseMonth(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
