package runrecord

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	c "github.com/perfbase/perfbase/internal/conventions"
)

func withoutWindows(r Record) Record {
	r.Interfaces = slices.Clone(r.Interfaces)
	for i := range r.Interfaces {
		r.Interfaces[i].Windows = nil
	}
	return r
}

func TestDecode(t *testing.T) {
	t.Parallel()
	a := synthRun(t, testMeta("run-a", "shop", "1/1"), t0, 5*time.Minute)
	// b starts before a ends: their window samples cannot be told apart.
	b := synthRun(t, testMeta("run-b", "shop", "1/1"), t0.Add(3*time.Minute), 5*time.Minute)
	// c runs alone, later.
	c1 := synthRun(t, testMeta("run-c", "shop", "1/1"), t0.Add(time.Hour), 5*time.Minute)

	tests := []struct {
		name    string
		samples func() []Sample
		want    []Record
		wantErr []string
	}{
		{
			name:    "overlapping runs keep their totals, lose their windows",
			samples: func() []Sample { return encode(t, a, b, c1) },
			want:    []Record{withoutWindows(a), withoutWindows(b), c1},
			wantErr: []string{`windows of run "run-a"`, `windows of run "run-b"`, "overlaps another run"},
		},
		{
			name: "windows outside the query range",
			samples: func() []Sample {
				var out []Sample
				for _, s := range encode(t, c1) {
					if s.T > c1.Meta.SteadyStart.Add(2*time.Minute).UnixMilli() {
						out = append(out, s)
					}
				}
				return out
			},
			want:    []Record{withoutWindows(c1)},
			wantErr: []string{`windows of run "run-c"`, "windows count", "the totals"},
		},
		{
			name: "totals without an info series",
			samples: func() []Sample {
				return slices.DeleteFunc(encode(t, a, c1), func(s Sample) bool {
					return s.Labels.Get(model.MetricNameLabel) == c.MetricRecordInfo && s.T == a.Meta.End.UnixMilli()
				})
			},
			want:    []Record{c1},
			wantErr: []string{"1 groups of record samples without an info series"},
		},
		{
			name: "duplicates from a replicated backend are one sample",
			samples: func() []Sample {
				s := encode(t, c1)
				for _, x := range encode(t, c1) {
					x.Labels = labels.NewBuilder(x.Labels).Set("replica", "b").Labels()
					s = append(s, x)
				}
				return s
			},
			want: []Record{c1},
		},
		{
			name: "samples that disagree leave the record out",
			samples: func() []Sample {
				s := encode(t, a, c1)
				for _, x := range encode(t, c1) {
					if x.Labels.Get(model.MetricNameLabel) == c.MetricRecordScheduled {
						x.Labels = labels.NewBuilder(x.Labels).Set("replica", "b").Labels()
						x.V++
						s = append(s, x)
					}
				}
				return s
			},
			want:    []Record{a},
			wantErr: []string{`record of scenario "shop" shard "1/1"`, "samples disagree", c.MetricRecordScheduled},
		},
		{
			name: "bounds written without .0 are the same bucket",
			samples: func() []Sample {
				s := encode(t, c1)
				for i, x := range s {
					if le := x.Labels.Get(c.LabelLe); strings.HasSuffix(le, ".0") {
						s[i].Labels = labels.NewBuilder(x.Labels).Set(c.LabelLe, strings.TrimSuffix(le, ".0")).Labels()
					}
				}
				return s
			},
			want: []Record{c1},
		},
		{
			name: "a quantile a later version may add is ignored",
			samples: func() []Sample {
				s := encode(t, c1)
				for _, x := range encode(t, c1) {
					if x.Labels.Get(c.LabelQuantile) == "0.5" {
						x.Labels = labels.NewBuilder(x.Labels).Set(c.LabelQuantile, "0.95").Labels()
						s = append(s, x)
					}
				}
				return s
			},
			want: []Record{c1},
		},
		{
			name: "a record with a bad info label is left out",
			samples: func() []Sample {
				s := encode(t, a, c1)
				for i, x := range s {
					if x.Labels.Get(model.MetricNameLabel) == c.MetricRecordInfo && x.T == a.Meta.End.UnixMilli() {
						s[i].Labels = labels.NewBuilder(x.Labels).Set(c.LabelStatus, "exploded").Labels()
					}
				}
				return s
			},
			want:    []Record{c1},
			wantErr: []string{`status "exploded"`},
		},
		{
			name: "window samples of a crashed run without a record are ignored",
			samples: func() []Sample {
				crashed := synthRun(t, testMeta("run-x", "shop", "1/1"), t0.Add(30*time.Minute), 4*time.Minute)
				s := encode(t, a, c1)
				for _, x := range encode(t, crashed) {
					if strings.HasPrefix(x.Labels.Get(model.MetricNameLabel), "perfbase_run_record_window_") {
						s = append(s, x)
					}
				}
				return s
			},
			want: []Record{a, c1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(toMatrix(tc.samples()))
			if d := diffRecords(got, tc.want); d != "" {
				t.Errorf("records differ:\n%s", d)
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want one containing %q", err, w)
				}
			}
		})
	}
}

func TestDecodeBoundsItsError(t *testing.T) {
	t.Parallel()
	var samples []Sample
	for i := range 50 {
		ls := labels.FromStrings(model.MetricNameLabel, c.MetricRecordInfo, c.LabelScenario, "shop", c.LabelShard, "1/1",
			c.LabelRunID, "r", c.LabelStatus, "bad")
		samples = append(samples, Sample{ls, t0.Add(time.Duration(i) * time.Hour).UnixMilli(), 1})
	}
	recs, err := Decode(toMatrix(samples))
	if len(recs) != 0 || err == nil {
		t.Fatalf("Decode = %v, %v; want nothing and an error", recs, err)
	}
	if !strings.Contains(err.Error(), "and 30 more") {
		t.Errorf("error does not bound its length: %v", err)
	}
}

// FuzzDecode feeds Decode hostile matrices: it must not panic, and what it
// returns must validate and encode.
func FuzzDecode(f *testing.F) {
	rec := synthRun(f, testMeta("run-a", "shop", "1/2"), t0, 3*time.Minute)
	seed, err := json.Marshal(toMatrix(encode(f, rec)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`[{"metric":{"__name__":"perfbase_run_record_info","scenario":"s","shard":"1/1","shards":"1","run_id":"r","status":"completed","thresholds":"none"},"values":[[1000,"1"]]},` +
		`{"metric":{"__name__":"perfbase_run_record_start_timestamp_seconds","scenario":"s","shard":"1/1"},"values":[[1000,"NaN"]]},` +
		`{"metric":{"__name__":"perfbase_run_record_window_requests","scenario":"s","shard":"1/1","interface":"a","outcome":"success"},"values":[[999,"-Inf"],[1000,"3"]]},` +
		`{"metric":{"__name__":"perfbase_run_record_duration_seconds_bucket","scenario":"s","shard":"1/1","interface":"a","le":"x"},"values":[[1000,"1"]]}]`))
	f.Add([]byte(`[{"metric":{"__name__":"perfbase_run_record_info","scenario":"s","shard":"9/1","shards":"-1"},"values":[[-5,"1"]]},` +
		`{"metric":{"__name__":"perfbase_run_record_start_timestamp_seconds","scenario":"s","shard":"9/1"},"values":[[-5,"1e300"]]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var mat model.Matrix
		if json.Unmarshal(data, &mat) != nil {
			return
		}
		recs, _ := Decode(mat, nil)
		for _, r := range recs {
			if err := r.Validate(); err != nil {
				t.Fatalf("Decode returned an invalid record: %v", err)
			}
			if _, err := Encode(r); err != nil {
				t.Fatalf("Decode returned a record Encode refuses: %v", err)
			}
			for _, ir := range r.Interfaces {
				for _, w := range ir.Windows {
					for _, v := range w.Latency {
						if math.IsNaN(v) {
							t.Fatal("NaN latency")
						}
					}
				}
			}
		}
	})
}

// FuzzDecodeEdits starts from the samples of two valid runs and applies
// the edits the fuzzer's bytes spell (drop, revalue, move, relabel or copy
// a sample): a stricter driver than raw JSON, since every input is a
// plausible store content a few edits away from a valid one.
func FuzzDecodeEdits(f *testing.F) {
	base := encode(f,
		synthRun(f, testMeta("run-a", "shop", "1/2"), t0, 3*time.Minute+20*time.Second),
		synthRun(f, testMeta("run-b", "shop", "1/2"), t0.Add(4*time.Minute), 2*time.Minute),
	)
	f.Add([]byte{})
	f.Add([]byte{0, 5, 1, 1, 7, 2, 3, 9, 200})
	f.Add([]byte{2, 0, 4, 3, 1, 2, 4, 10, 3})
	values := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, 0, 1, 2.5, 1e300, 1.7e9}
	relabels := [][2]string{
		{c.LabelScenario, "other"}, {c.LabelShard, "2/2"}, {c.LabelShard, "0/0"}, {c.LabelInterface, ""},
		{c.LabelOutcome, "weird"}, {c.LabelLe, "x"}, {c.LabelLe, "NaN"}, {c.LabelQuantile, "0.95"},
		{c.LabelRunID, "run-z"}, {c.LabelShards, "two"}, {c.LabelStatus, c.RecordStatusInterrupted},
	}
	f.Fuzz(func(t *testing.T, edits []byte) {
		s := slices.Clone(base)
		for len(edits) >= 3 && len(s) > 0 {
			op, i, arg := edits[0]%5, (int(edits[1])*int(edits[2])+int(edits[1]))%len(s), int(edits[2])
			edits = edits[3:]
			switch op {
			case 0:
				s = slices.Delete(s, i, i+1)
			case 1:
				s[i].V = values[arg%len(values)]
			case 2:
				s[i].T += int64(arg-128) * 1000
			case 3:
				rl := relabels[arg%len(relabels)]
				s[i].Labels = labels.NewBuilder(s[i].Labels).Set(rl[0], rl[1]).Labels()
			case 4:
				x := s[i]
				x.V = values[arg%len(values)]
				s = append(s, x)
			}
		}
		recs, _ := Decode(toMatrix(s))
		for _, r := range recs {
			if err := r.Validate(); err != nil {
				t.Fatalf("Decode returned an invalid record: %v", err)
			}
			if _, err := Encode(r); err != nil {
				t.Fatalf("Decode returned a record Encode refuses: %v", err)
			}
		}
	})
}
