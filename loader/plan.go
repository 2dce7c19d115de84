package loader

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/perfbase/perfbase/loader/scenario"
)

// Shard selects this loader's part of a scenario run by several loaders:
// loader Index (1-based) of Count sends 1/Count of every interface's rate and
// its share of the virtual users, so Count loaders reproduce the scenario.
type Shard struct{ Index, Count int }

// Validate checks the shard.
func (s Shard) Validate() error {
	if s.Count < 1 || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("shard %d/%d: want i/n with 1 <= i <= n", s.Index, s.Count)
	}
	return nil
}

// ParseShard reads "i/n", e.g. "2/3".
func ParseShard(v string) (Shard, error) {
	var s Shard
	var rest string
	n, err := fmt.Sscanf(v, "%d/%d%s", &s.Index, &s.Count, &rest)
	if n < 2 || (err != nil && n != 2) || rest != "" {
		return Shard{}, fmt.Errorf("shard %q: want i/n, e.g. 2/3", v)
	}
	return s, s.Validate()
}

// UnmarshalText lets flags and config files hold a shard.
func (s *Shard) UnmarshalText(b []byte) error {
	v, err := ParseShard(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func (s Shard) String() string {
	if s.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// step is a period in which some interfaces run concurrently.
type step struct {
	stage    int // index in the scenario's stages
	name     string
	duration time.Duration
	warmup   bool
	loads    []load
}

// load is what one interface does during a step.
type load struct {
	iface string
	// Open loop: rate from From to To req/s. Closed loop: Users > 0.
	from, to float64
	users    int
}

// plan turns a scenario into the steps this loader runs.
func plan(s *scenario.Scenario, shard Shard) []step {
	share := 1.0 / float64(max(shard.Count, 1))
	var steps []step
	build := func(ifaces []string, weights func(scenario.Stage) map[string]float64) {
		prev := map[string]float64{} // each interface's rate at the end of the previous stage
		for i, st := range s.Stages {
			w := weights(st)
			stp := step{stage: i, name: stageName(st, i), duration: st.Duration.D(), warmup: st.Warmup}
			var users map[string]int
			if !st.OpenLoop() {
				users = splitUsers(shardUsers(st.Users, shard), ifaces, w)
			}
			for _, name := range ifaces {
				l := load{iface: name}
				switch {
				case !st.OpenLoop():
					l.users = users[name]
					prev[name] = 0
				case st.RampTo > 0:
					l.from, l.to = prev[name], st.RampTo*w[name]*share
					prev[name] = l.to
				default:
					l.from = st.Rate * w[name] * share
					l.to = l.from
					prev[name] = l.to
				}
				if l.users > 0 || l.from > 0 || l.to > 0 {
					stp.loads = append(stp.loads, l)
				}
			}
			steps = append(steps, stp)
		}
	}
	if s.Mode == scenario.ModeConcentrated {
		for _, it := range s.Interfaces {
			build([]string{it.Name}, func(scenario.Stage) map[string]float64 { return map[string]float64{it.Name: 1} })
		}
		return steps
	}
	names := make([]string, len(s.Interfaces))
	for i, it := range s.Interfaces {
		names[i] = it.Name
	}
	build(names, s.Weights)
	return steps
}

func stageName(st scenario.Stage, i int) string {
	if st.Name != "" {
		return st.Name
	}
	return fmt.Sprintf("stage %d", i+1)
}

// shardUsers is this shard's part of n users: the first n%count shards get
// one more, so the parts add up to n.
func shardUsers(n int, s Shard) int {
	if s.Count <= 1 {
		return n
	}
	u := n / s.Count
	if s.Index <= n%s.Count {
		u++
	}
	return u
}

// splitUsers shares n users among interfaces by weight with the largest
// remainder method, so the parts add up to n.
func splitUsers(n int, ifaces []string, w map[string]float64) map[string]int {
	out := make(map[string]int, len(ifaces))
	type rem struct {
		name string
		frac float64
	}
	var rems []rem
	given := 0
	for _, name := range ifaces {
		exact := float64(n) * w[name]
		out[name] = int(math.Floor(exact))
		given += out[name]
		rems = append(rems, rem{name, exact - math.Floor(exact)})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].frac > rems[j].frac })
	for i := 0; given < n && i < len(rems); i++ {
		if w[rems[i].name] > 0 {
			out[rems[i].name]++
			given++
		}
	}
	return out
}
