package main

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/analyzer"
	"github.com/perfbase/perfbase/internal/backend"
	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/demotarget"
	"github.com/perfbase/perfbase/internal/testservers"
)

// shardScenario runs 240 req/s in total, 3:1 over two interfaces, so that
// every interface's rate splits into whole requests per shard:
// query_balance 180/s (60/s per shard of 3), recharge 60/s (20/s).
const shardScenario = `name: sharded
target: TARGET
defaults:
  timeout: 2s
  expect: {status: [200], business: {json: code, equals: "0000"}}
interfaces:
  - {name: query_balance, path: /api/balance}
  - {name: recharge, method: POST, path: /api/recharge, body: '{"amount":10}'}
mix: {query_balance: 3, recharge: 1}
stages:
  - {duration: 1s, rate: 120, warmup: true}
  - {duration: 8s, rate: 240}
`

// Requests the scenario schedules in all, over both phases, per interface.
var shardScenarioTotals = map[string]float64{
	"query_balance": 120*0.75*1 + 240*0.75*8,
	"recharge":      120*0.25*1 + 240*0.25*8,
}

// TestShardsReproduceScenario: three loaders running --shard i/3 under one
// run_id, scraped by one real Prometheus, send the scenario's total load;
// and the analyzer's figures of that run equal those of one loader running
// the whole scenario at the same time against the same target.
func TestShardsReproduceScenario(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs Prometheus and ~30s")
	}
	d := demotarget.New()
	// Failures make the success ratios worth comparing.
	if err := d.Degrade(demotarget.Degradation{Slowdown: 1, ExtraSystemErrors: 0.05, ExtraBusinessErrors: 0.1}); err != nil {
		t.Fatal(err)
	}
	target := httptest.NewServer(d)
	t.Cleanup(target.Close)
	scen := writeScenario(t, target.URL, shardScenario)

	type loaderProc struct{ runID, shard, addr string }
	var loaders []loaderProc
	for i := 1; i <= 3; i++ {
		loaders = append(loaders, loaderProc{"sharded", fmt.Sprintf("%d/3", i), fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))})
	}
	loaders = append(loaders, loaderProc{"single", "1/1", fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))})

	// One job scrapes every loader, as examples/sharding/prometheus.yml does.
	var targets []string
	for _, l := range loaders {
		targets = append(targets, fmt.Sprintf("%q", l.addr))
	}
	prom := testservers.Prometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: perfbase
    static_configs: [{targets: [%s]}]
`, strings.Join(targets, ", ")))
	for _, l := range loaders {
		waitForTarget(t, prom.URL, l.addr)
	}

	// All four loaders run at once, so the sharded and the single run see
	// the same target and the same machine.
	var wg sync.WaitGroup
	for _, l := range loaders {
		wg.Go(func() {
			code, stdout, stderr := perfbase(t, "run", "--run-id", l.runID, "--shard", l.shard,
				"--listen", l.addr, "--linger", "3s", "--no-store", "--progress", "off", scen)
			if code != 0 {
				t.Errorf("loader %s %s: exit %d\nstdout:\n%s\nstderr:\n%s", l.runID, l.shard, code, stdout, stderr)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	q, err := backend.NewRemote(backend.RemoteOptions{URL: prom.URL, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The final values of each counter summed over every loader of a run:
	// the last scrape happened during --linger.
	final := func(metric, runID string) (map[string]float64, int) {
		t.Helper()
		expr := fmt.Sprintf(`sum by (%s) (last_over_time(%s{%s=%q}[5m]))`, conventions.LabelInterface, metric, conventions.LabelRunID, runID)
		v, err := q.Query(ctx, expr, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, s := range v.(model.Vector) {
			out[string(s.Metric[conventions.LabelInterface])] = float64(s.Value)
		}
		cnt, err := q.Query(ctx, fmt.Sprintf(`count(count by (instance) (last_over_time(%s{%s=%q}[5m])))`, metric, conventions.LabelRunID, runID), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if vec := cnt.(model.Vector); len(vec) == 1 {
			n = int(vec[0].Value)
		}
		return out, n
	}

	t.Run("sharded total equals the scenario", func(t *testing.T) {
		sched, instances := final(conventions.MetricRequestsScheduled, "sharded")
		if instances != 3 {
			t.Errorf("scheduled counters from %d loaders, want 3", instances)
		}
		completed, _ := final(conventions.MetricRequestsTotal, "sharded")
		dropped, _ := final(conventions.MetricRequestsDropped, "sharded")
		for name, want := range shardScenarioTotals {
			t.Logf("%s: scenario %g, scheduled %g, completed %g, dropped %g", name, want, sched[name], completed[name], dropped[name])
			if !within(sched[name], want, 0.02) {
				t.Errorf("%s: scheduled over 3 shards = %g, scenario total %g (want within 2%%)", name, sched[name], want)
			}
			// Requests the loaders could not send on time are dropped, not
			// lost: on a machine short of CPU (the single loader runs at
			// the same time) completed falls short by exactly those.
			if dropped[name] == 0 && !within(completed[name], want, 0.02) {
				t.Errorf("%s: completed over 3 shards = %g, scenario total %g (want within 2%%)", name, completed[name], want)
			}
			if dropped[name] > 0 {
				t.Logf("%s: %g requests dropped: the machine was short of CPU", name, dropped[name])
			}
			if completed[name]+dropped[name] != sched[name] {
				t.Errorf("%s: completed %g + dropped %g != scheduled %g", name, completed[name], dropped[name], sched[name])
			}
		}
	})

	t.Run("analyzer figures equal a single loader's", func(t *testing.T) {
		opts := analyzer.DefaultOptions()
		opts.Resolution = 2 * time.Second // twice the scrape interval
		// A pinned run is looked for in the months before the report's.
		next := analyzer.MonthOf(time.Now(), time.UTC).Add(1)
		figures := map[string]*analyzer.Baseline{}
		for _, runID := range []string{"sharded", "single"} {
			b, err := analyzer.BuildBaseline(ctx, q, opts, analyzer.BaselineOptions{RunID: runID}, next)
			if err != nil {
				t.Fatalf("%s: %v", runID, err)
			}
			figures[runID] = b
		}
		for name := range shardScenarioTotals {
			sh, si := figures["sharded"].Interface(name), figures["single"].Interface(name)
			if sh == nil || si == nil {
				t.Fatalf("%s: missing from the analyzer's figures (sharded %v, single %v)", name, sh != nil, si != nil)
			}
			t.Logf("%s: sharded requests %g %v; single requests %g %v", name, sh.Requests, sh.Metrics, si.Requests, si.Metrics)
			// increase() extrapolates each loader's series a little; the
			// tolerance covers that, not a missing shard (33%). Completed
			// requests may also differ by what either run dropped.
			if !within(sh.Counts.Scheduled, si.Counts.Scheduled, 0.05) {
				t.Errorf("%s: scheduled sharded %g, single %g", name, sh.Counts.Scheduled, si.Counts.Scheduled)
			}
			if d := math.Abs(sh.Requests - si.Requests); d > 0.05*si.Counts.Scheduled+math.Abs(sh.Counts.Dropped-si.Counts.Dropped) {
				t.Errorf("%s: requests sharded %g, single %g (dropped %g, %g)", name, sh.Requests, si.Requests, sh.Counts.Dropped, si.Counts.Dropped)
			}
			// Active time is counted in Resolution steps, and the shards
			// start a moment apart: throughput may differ by that much.
			shActive := sh.Requests / sh.Metrics[conventions.BaselineThroughput]
			siActive := si.Requests / si.Metrics[conventions.BaselineThroughput]
			if !(math.Abs(shActive-siActive) <= 2*opts.Resolution.Seconds()) {
				t.Errorf("%s: active time sharded %.1fs, single %.1fs, differ by more than two %s steps", name, shActive, siActive, opts.Resolution)
			}
			for _, m := range []struct {
				key   string
				ratio bool    // a success ratio, compared by its sampling noise
				rel   float64 // relative tolerance for latencies
			}{
				{key: conventions.BaselineSystemSuccess, ratio: true},
				{key: conventions.BaselineBusinessSuccess, ratio: true},
				{key: conventions.BaselineLatencyP50, rel: 0.3},
				{key: conventions.BaselineLatencyP90, rel: 0.5},
			} {
				a, aok := sh.Metrics[m.key]
				b, bok := si.Metrics[m.key]
				// Two proportions of n1 and n2 requests differ by their
				// sampling noise, sqrt(p(1-p)(1/n1+1/n2)); allow 4 sigma.
				p := (a + b) / 2
				noise := 4 * math.Sqrt(max(p*(1-p), 0.01)*(1/sh.Requests+1/si.Requests))
				switch {
				case !aok || !bok:
					t.Errorf("%s %s: sharded %v (%v), single %v (%v)", name, m.key, a, aok, b, bok)
				case m.ratio && math.Abs(a-b) > noise:
					t.Errorf("%s %s: sharded %.4f, single %.4f, differ by more than 4 sigma (%.4f)", name, m.key, a, b, noise)
				case m.rel > 0 && !within(a, b, m.rel) && math.Abs(a-b) > schedulingJitter:
					t.Errorf("%s %s: sharded %.4f, single %.4f, differ by more than %.0f%% and %s", name, m.key, a, b, m.rel*100, time.Duration(schedulingJitter*float64(time.Second)))
				}
			}
		}
	})
}

// schedulingJitter is how much the loaders' measured latency of the demo
// service (which sleeps its latencies) may differ on a busy 2-core machine
// running four loaders, the service and Prometheus at once: the sharded
// run is three processes competing for the cores, the single one is one.
// A difference within it is not a difference of the method.
const schedulingJitter = 0.010 // seconds

// within reports whether got is within rel (relative) of want.
func within(got, want, rel float64) bool {
	return want != 0 && math.Abs(got-want) <= rel*math.Abs(want)
}
