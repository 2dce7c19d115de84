package importer

import (
	"fmt"
	"math"
	"time"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/runrecord"
)

// sessionGap is the silence that ends a run inside one imported file: a
// JTL file that holds several test sessions gives one record per session.
const sessionGap = time.Hour

// recorder builds the run records of an import from the aggregator's
// ticks, the way a live run's records are built: cumulative snapshots of
// the steady phase fed to a runrecord.Builder at every tick. Imports have
// no warm-up, so a session's steady phase is the whole session.
type recorder struct {
	runID, scenario, mode string
	interval              time.Duration

	b        *runrecord.Builder
	start    time.Time // the session's first tick's start
	lastTick int64
	state    map[string]*runrecord.InterfaceSnapshot
	active   map[string]float64
	records  []runrecord.Record
	err      error
}

func newRecorder(runID, scenario, mode string, interval time.Duration) *recorder {
	return &recorder{runID: runID, scenario: scenario, mode: mode, interval: interval}
}

// tick takes the records of the tick ending at t (ms).
func (r *recorder) tick(t int64, recs []pendingRec, bounds []float64) {
	if r.err != nil || len(recs) == 0 && r.b == nil {
		return
	}
	if r.b != nil && len(recs) > 0 && t-r.lastTick > sessionGap.Milliseconds() {
		r.finish()
	}
	if r.b == nil {
		if len(recs) == 0 {
			return
		}
		r.start = time.UnixMilli(t).Add(-r.interval).UTC()
		o := runrecord.DefaultOptions()
		if r.b, r.err = runrecord.NewBuilder(r.start, o); r.err != nil {
			return
		}
		r.state, r.active = map[string]*runrecord.InterfaceSnapshot{}, map[string]float64{}
	}
	touched := map[string]bool{}
	for _, p := range recs {
		s := r.state[p.iface.name]
		if s == nil {
			s = &runrecord.InterfaceSnapshot{Buckets: make([]runrecord.Bucket, len(bounds)+1)}
			for i := range s.Buckets {
				s.Buckets[i].UpperBound = math.Inf(1)
				if i < len(bounds) {
					s.Buckets[i].UpperBound = bounds[i]
				}
			}
			r.state[p.iface.name] = s
		}
		switch p.outcome {
		case 0:
			s.Requests.Success++
		case 1:
			s.Requests.BusinessFailure++
		default:
			s.Requests.SystemFailure++
		}
		s.Scheduled++
		// cumulative: every bucket from the request's up to +Inf
		for i := range s.Buckets {
			if p.latency <= s.Buckets[i].UpperBound {
				s.Buckets[i].Count++
			}
		}
		touched[p.iface.name] = true
	}
	for name := range touched {
		r.active[name] += r.interval.Seconds()
	}
	if len(recs) == 0 {
		return // nothing changed; the record ends with its last request
	}
	r.lastTick = t
	snap := runrecord.Snapshot{Time: time.UnixMilli(t).UTC(), Interfaces: map[string]runrecord.InterfaceSnapshot{}}
	for name, s := range r.state {
		c := *s
		c.Buckets = append([]runrecord.Bucket(nil), s.Buckets...)
		snap.Interfaces[name] = c
	}
	if err := r.b.Add(snap); err != nil {
		r.err = err
	}
}

// finish closes the current session's record.
func (r *recorder) finish() {
	if r.err != nil || r.b == nil {
		return
	}
	id := r.runID
	if n := len(r.records); n > 0 {
		id = fmt.Sprintf("%s-%d", r.runID, n+1)
	}
	rec, err := r.b.Build(runrecord.Meta{
		RunID: id, Scenario: r.scenario, Mode: r.mode, Shard: conventions.RecordShardUnsharded, Shards: 1,
		Status: conventions.RecordStatusCompleted, Thresholds: conventions.RecordThresholdsNone,
		Start: r.start, SteadyStart: r.start, End: time.UnixMilli(r.lastTick).UTC(),
	}, r.active)
	if err != nil {
		r.err = err
		return
	}
	r.records = append(r.records, rec)
	r.b = nil
}
