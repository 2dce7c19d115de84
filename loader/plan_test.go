package loader

import (
	"math"
	"testing"

	"github.com/perfbase/perfbase/loader/scenario"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	s, err := scenario.Load("../examples/mixed.yml")
	if err != nil {
		t.Fatal(err)
	}
	steps := plan(s, Shard{1, 1})
	if len(steps) != 4 {
		t.Fatalf("%d steps, want 4", len(steps))
	}
	if !steps[0].warmup || steps[1].warmup {
		t.Errorf("warm-up flags wrong: %v %v", steps[0].warmup, steps[1].warmup)
	}
	byName := func(st step, name string) load {
		for _, l := range st.loads {
			if l.iface == name {
				return l
			}
		}
		t.Fatalf("%s has no load for %s", st.name, name)
		return load{}
	}
	// mix 3:2:1 of 100 req/s.
	if l := byName(steps[1], "query_balance"); l.from != 50 || l.to != 50 {
		t.Errorf("steady query_balance = %v..%v, want 50", l.from, l.to)
	}
	// The ramp starts at the previous stage's rate of each interface.
	if l := byName(steps[2], "recharge"); !near(l.from, 100.0/6) || !near(l.to, 300.0/6) {
		t.Errorf("ramp recharge = %v..%v, want %v..%v", l.from, l.to, 100.0/6, 300.0/6)
	}
	// The campaign peak has its own mix 1:1:4 of 600.
	if l := byName(steps[3], "recharge"); l.from != 400 {
		t.Errorf("peak recharge = %v, want 400", l.from)
	}

	// Three shards send a third each.
	sh := plan(s, Shard{2, 3})
	if l := byName(sh[1], "query_balance"); !near(l.from, 50.0/3) {
		t.Errorf("shard rate = %v, want %v", l.from, 50.0/3)
	}

	c, err := scenario.Load("../examples/concentrated.yml")
	if err != nil {
		t.Fatal(err)
	}
	cs := plan(c, Shard{1, 1})
	if len(cs) != 6 {
		t.Fatalf("concentrated: %d steps, want 2 interfaces x 3 stages", len(cs))
	}
	for i, st := range cs {
		if len(st.loads) != 1 {
			t.Fatalf("step %d runs %d interfaces at once, want 1", i, len(st.loads))
		}
	}
	if cs[1].loads[0].from != 200 || cs[2].loads[0].users != 20 || cs[3].loads[0].iface != "recharge" {
		t.Errorf("concentrated steps wrong: %+v %+v %+v", cs[1].loads, cs[2].loads, cs[3].loads)
	}
}

func TestSplitUsers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n    int
		w    map[string]float64
		want map[string]int
	}{
		{10, map[string]float64{"a": 0.5, "b": 0.5}, map[string]int{"a": 5, "b": 5}},
		{10, map[string]float64{"a": 2.0 / 3, "b": 1.0 / 3}, map[string]int{"a": 7, "b": 3}},
		{1, map[string]float64{"a": 0.5, "b": 0.5}, map[string]int{"a": 1, "b": 0}},
		{5, map[string]float64{"a": 1, "b": 0}, map[string]int{"a": 5, "b": 0}},
	}
	for _, tc := range cases {
		got := splitUsers(tc.n, []string{"a", "b"}, tc.w)
		if got["a"] != tc.want["a"] || got["b"] != tc.want["b"] {
			t.Errorf("splitUsers(%d, %v) = %v, want %v", tc.n, tc.w, got, tc.want)
		}
	}
	// Shards add up to the whole.
	for _, n := range []int{1, 2, 7, 10} {
		sum := 0
		for i := 1; i <= 3; i++ {
			sum += shardUsers(n, Shard{i, 3})
		}
		if sum != n {
			t.Errorf("shards of %d users add up to %d", n, sum)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestParseShard(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Shard{"1/1": {1, 1}, "2/3": {2, 3}, "10/10": {10, 10}} {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "0/3", "4/3", "a/b", "1/2x", "-1/2", "1/0"} {
		if _, err := ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q): no error", in)
		}
	}
}
