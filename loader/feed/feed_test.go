package feed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, file, text string
		rows             int
		row0             []string
		err              string // substring; "" = no error
	}{
		{"csv", "a.csv", "id,phone\n1,138\n2,139\n", 2, []string{"1", "138"}, ""},
		{"csv quoted", "a.csv", "id,note\n1,\"a,b\"\"c\"\n", 1, []string{"1", `a,b"c`}, ""},
		{"csv ragged", "a.csv", "id,phone\n1,138\n2\n", 0, nil, "a.csv:3: wrong number of fields"},
		{"csv duplicate column", "a.csv", "id,id\n1,2\n", 0, nil, `a.csv:1: column "id" appears twice`},
		{"csv bad column", "a.csv", "id,bill month\n1,2\n", 0, nil, `column "bill month"`},
		{"csv header only", "a.csv", "id\n", 0, nil, "no rows"},
		{"csv empty", "a.csv", "", 0, nil, "empty"},
		{"jsonl", "a.jsonl", "{\"id\":1,\"name\":\"x\",\"ok\":true,\"n\":null,\"o\":{\"a\": [1, 2]}}\n\n{\"name\":\"y\",\"id\":2.5,\"ok\":false,\"n\":\"\",\"o\":[]}\n",
			2, []string{"1", "x", "true", "", `{"a":[1,2]}`}, ""},
		{"jsonl missing key", "a.jsonl", "{\"id\":1,\"name\":\"x\"}\n{\"id\":2}\n", 0, nil, "a.jsonl:2: 1 of the 2 columns"},
		{"jsonl extra key", "a.jsonl", "{\"id\":1}\n{\"id\":2,\"x\":3}\n", 0, nil, `a.jsonl:2: key "x" is not a column`},
		{"jsonl not object", "a.jsonl", "{\"id\":1}\n[1]\n", 0, nil, "a.jsonl:2: not a JSON object"},
		{"jsonl bad json", "a.jsonl", "{\"id\":1}\n{\"id\":}\n", 0, nil, "a.jsonl:2:"},
		{"unknown format", "a.txt", "x\n", 0, nil, "unknown data set format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := LoadFile(writeFile(t, c.file, c.text))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want it to say %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Len() != c.rows || fmt.Sprint(s.Row(0)) != fmt.Sprint(c.row0) {
				t.Errorf("%d rows, row 0 %q; want %d, %q", s.Len(), s.Row(0), c.rows, c.row0)
			}
		})
	}
}

func set(n int) *Set {
	s := &Set{columns: []string{"i"}, index: map[string]int{"i": 0}}
	for i := range n {
		s.rows = append(s.rows, []string{fmt.Sprint(i)})
	}
	return s
}

func TestPickerOrders(t *testing.T) {
	t.Parallel()
	s := set(5)
	seqP, _ := NewPicker(s, Sequential, Recycle, 1, 1)
	var got []int
	for range 7 {
		r, ok := seqP.Next()
		if !ok {
			t.Fatal("sequential recycle stopped")
		}
		got = append(got, r)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 0 1]" {
		t.Errorf("sequential = %v, want it to wrap", got)
	}
	stopP, _ := NewPicker(s, Sequential, Stop, 1, 1)
	for i := range 5 {
		if _, ok := stopP.Next(); !ok {
			t.Fatalf("stopped after %d of 5 rows", i)
		}
	}
	if _, ok := stopP.Next(); ok || !stopP.Exhausted() || stopP.Used() != 5 {
		t.Errorf("sequential stop: a 6th row, or not exhausted (used %d)", stopP.Used())
	}
	// Unique over 3 shards of 10 rows: disjoint, every row once.
	s10 := set(10)
	seen := map[int]int{}
	for shard := 1; shard <= 3; shard++ {
		p, err := NewPicker(s10, Unique, Stop, shard, 3)
		if err != nil {
			t.Fatal(err)
		}
		for {
			r, ok := p.Next()
			if !ok {
				break
			}
			seen[r]++
		}
	}
	if len(seen) != 10 {
		t.Errorf("unique over 3 shards used %d distinct rows of 10", len(seen))
	}
	for r, n := range seen {
		if n != 1 {
			t.Errorf("row %d used %d times", r, n)
		}
	}
	if _, err := NewPicker(set(2), Unique, Stop, 3, 3); err == nil {
		t.Error("shard 3/3 of 2 rows: no error")
	}
}

func TestPickerRandomIsUniform(t *testing.T) {
	t.Parallel()
	p, _ := NewPicker(set(10), Random, Recycle, 1, 1)
	var counts [10]float64
	const n = 100_000
	for range n {
		r, _ := p.Next()
		counts[r]++
	}
	// Chi-square with 9 degrees of freedom: 27.9 is its 0.999 quantile.
	var chi float64
	for _, c := range counts {
		chi += (c - n/10) * (c - n/10) / (n / 10)
	}
	if chi > 27.9 {
		t.Errorf("chi-square %.1f over 10 rows: not uniform (%v)", chi, counts)
	}
}

func TestPickerUniqueConcurrent(t *testing.T) {
	t.Parallel()
	p, _ := NewPicker(set(10_000), Unique, Stop, 1, 1)
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				r, ok := p.Next()
				if !ok {
					return
				}
				mu.Lock()
				if seen[r] {
					t.Errorf("row %d handed out twice", r)
				}
				seen[r] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 10_000 {
		t.Errorf("%d rows handed out, want 10000", len(seen))
	}
}

func resolver(t *testing.T) func(string, string) (Ref, error) {
	return func(set, col string) (Ref, error) {
		if set != "acct" {
			return Ref{}, fmt.Errorf("unknown data set %q", set)
		}
		switch col {
		case "id":
			return Ref{0, 0}, nil
		case "note":
			return Ref{0, 1}, nil
		}
		return Ref{}, errors.New("no such column")
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	v := &Values{Rows: [][]string{{"a/b c", "say \"hi\"\n\\ é&x=1?"}}}
	v.Reset(42)
	for _, c := range []struct {
		src  string
		e    Escape
		want string
	}{
		{"/bill/{{acct.id}}?note={{ acct.note }}&run={{run_id}}&n={{seq}}", URL,
			"/bill/a%2Fb%20c?note=say%20%22hi%22%0A%5C%20%C3%A9%26x%3D1%3F&run=r%201&n=42"},
		{`{"id": "{{acct.id}}", "note": "{{acct.note}}", "run": "{{run_id}}"}`, Auto,
			`{"id": "a/b c", "note": "say \"hi\"\n\\ é&x=1?", "run": "r 1"}`},
		{"{{acct.note}}", Auto, "say \"hi\"\n\\ é&x=1?"},
		{"Bearer {{acct.id}}-{{seq}}", Raw, "Bearer a/b c-42"},
		{"no placeholders {x}", URL, "no placeholders {x}"},
	} {
		tp, err := Compile(c.src, c.e, "r 1", resolver(t))
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got := string(tp.Render(nil, v)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.src, got, c.want)
		}
	}
	for src, want := range map[string]string{
		"/x/{{nope.id}}":     `{{nope.id}}: unknown data set "nope"`,
		"/x/{{acct.zip}}":    "{{acct.zip}}: no such column",
		"/x/{{acct.id":       "without its }}",
		"/x/{{random}}":      "want {{data_set.column}}",
		"/x/{{acct.id.sub}}": "no such column",
	} {
		_, err := Compile(src, URL, "r", resolver(t))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
	static, _ := Compile("/a?run={{run_id}}", URL, "r1", resolver(t))
	if !static.Static() || static.Text() != "/a?run=r1" {
		t.Errorf("run id only: static=%v text=%q", static.Static(), static.Text())
	}
}

func TestUUIDSharedWithinARequest(t *testing.T) {
	t.Parallel()
	tp, _ := Compile("{{uuid}} {{uuid}}", Raw, "r", resolver(t))
	var v Values
	v.Reset(1)
	a := strings.Fields(string(tp.Render(nil, &v)))
	if len(a) != 2 || a[0] != a[1] || len(a[0]) != 36 || a[0][14] != '4' {
		t.Fatalf("uuids %q: want one v4 uuid twice", a)
	}
	v.Reset(2)
	if b := string(tp.Render(nil, &v)); strings.HasPrefix(b, a[0]) {
		t.Error("the next request has the same uuid")
	}
}

func BenchmarkRender(b *testing.B) {
	v := &Values{Rows: [][]string{{"13800138000", "2026-11"}}}
	res := func(set, col string) (Ref, error) {
		if col == "id" {
			return Ref{0, 0}, nil
		}
		return Ref{0, 1}, nil
	}
	for _, c := range []struct {
		name, src string
		e         Escape
	}{
		{"path", "/api/bill?account={{a.id}}&month={{a.month}}", URL},
		{"json", `{"account":"{{a.id}}","month":"{{a.month}}","seq":{{seq}}}`, Auto},
	} {
		tp, err := Compile(c.src, c.e, "r", res)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for i := 0; b.Loop(); i++ {
				v.Reset(uint64(i))
				buf = tp.Render(buf[:0], v)
			}
		})
	}
}

func FuzzCompile(f *testing.F) {
	f.Add("/a/{{acct.id}}?x={{seq}}")
	f.Add(`{"a":"{{uuid}}"}`)
	f.Add("{{")
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := Compile(src, Auto, "r", func(set, col string) (Ref, error) {
			if set == "acct" && col == "id" {
				return Ref{}, nil
			}
			return Ref{}, errors.New("unknown")
		})
		if err != nil {
			return
		}
		v := &Values{Rows: [][]string{{"x"}}}
		v.Reset(1)
		_ = tp.Render(nil, v)
	})
}
