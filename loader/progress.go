package loader

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Progress is a live snapshot of a run.
type Progress struct {
	Elapsed time.Duration
	Total   time.Duration // planned length of the run
	Stage   string
	Final   bool
	// Saturated: the generator, not the target, limited the last second.
	Saturated  bool
	Interfaces []InterfaceProgress
}

// InterfaceProgress is one interface's live figures. Rates and p99 are
// over the last interval; ratios are since the start.
type InterfaceProgress struct {
	Name            string
	TargetRate      float64
	Users           int
	AchievedRate    float64
	P99             time.Duration
	SystemSuccess   float64
	BusinessSuccess float64
	Completed       uint64
	Dropped         uint64
	InFlight        uint64
}

// saturatedWarning is shown while the generator limits the run.
const saturatedWarning = "the load generator is saturated: latencies include its own queueing"

// progressState keeps the previous snapshots for windowed figures.
type progressState struct {
	at    time.Time
	done  map[string]uint64
	hists map[string]*histSnapshot
}

func (e *engine) progressLoop(ctx context.Context, start time.Time) {
	t := time.NewTicker(e.opts.ProgressInterval)
	defer t.Stop()
	prev := &progressState{at: start, done: map[string]uint64{}, hists: map[string]*histSnapshot{}}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			e.opts.Progress(e.progress(start, now, prev))
		}
	}
}

// progress builds a snapshot; with prev it also computes windowed rates and
// p99 and moves prev forward.
func (e *engine) progress(start, now time.Time, prev *progressState) Progress {
	p := Progress{Elapsed: now.Sub(start), Total: e.s.TotalDuration(), Stage: e.stage.Load().(string), Final: prev == nil,
		Saturated: e.gen.saturatedNow.Load()}
	for _, name := range e.order {
		st := e.stats[name]
		c := st.allCounts()
		done := c.completed()
		ip := InterfaceProgress{
			Name:            name,
			TargetRate:      math.Float64frombits(st.target.Load()),
			Users:           int(st.users.Load()),
			SystemSuccess:   ratio(c.Outcomes[Success]+c.Outcomes[BusinessFailure], done),
			BusinessSuccess: ratio(c.Outcomes[Success], c.Outcomes[Success]+c.Outcomes[BusinessFailure]),
			Completed:       done,
			Dropped:         c.Dropped,
		}
		if c.Sent > done {
			ip.InFlight = c.Sent - done
		}
		h := &histSnapshot{}
		var w histSnapshot
		st.latency[0].snapshot(h)
		st.latency[1].snapshot(&w)
		h.add(&w)
		if prev != nil {
			if dt := now.Sub(prev.at).Seconds(); dt > 0 {
				ip.AchievedRate = float64(done-prev.done[name]) / dt
			}
			win := *h
			if old := prev.hists[name]; old != nil {
				win.sub(old)
			}
			win.max = 0
			ip.P99 = win.quantile(0.99)
			prev.done[name] = done
			prev.hists[name] = h
		} else {
			ip.P99 = h.quantile(0.99)
			if d := now.Sub(start).Seconds(); d > 0 {
				ip.AchievedRate = float64(done) / d
			}
		}
		p.Interfaces = append(p.Interfaces, ip)
	}
	if prev != nil {
		prev.at = now
	}
	return p
}

// ProgressPrinter renders progress snapshots: redrawn in place on a
// terminal, or as plain lines every Every otherwise (logs, CI).
type ProgressPrinter struct {
	W        io.Writer
	Terminal bool
	Every    time.Duration // plain mode only; default 10s

	mu    sync.Mutex
	lines int
	last  time.Duration
}

// Print renders one snapshot.
func (pp *ProgressPrinter) Print(p Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if !pp.Terminal {
		every := pp.Every
		if every <= 0 {
			every = 10 * time.Second
		}
		if !p.Final && p.Elapsed-pp.last < every {
			return
		}
		pp.last = p.Elapsed
		if p.Saturated {
			fmt.Fprintf(pp.W, "progress elapsed=%s warning=%q\n", p.Elapsed.Round(time.Second), saturatedWarning)
		}
		for _, i := range p.Interfaces {
			fmt.Fprintf(pp.W, "progress elapsed=%s stage=%q interface=%s target_rps=%.1f users=%d achieved_rps=%.1f p99=%s system_success=%s business_success=%s completed=%d dropped=%d in_flight=%d\n",
				p.Elapsed.Round(time.Second), p.Stage, i.Name, i.TargetRate, i.Users, i.AchievedRate, i.P99,
				fmtPercent(i.SystemSuccess), fmtPercent(i.BusinessSuccess), i.Completed, i.Dropped, i.InFlight)
		}
		return
	}
	var b strings.Builder
	pct := 0.0
	if p.Total > 0 {
		pct = math.Min(100, 100*p.Elapsed.Seconds()/p.Total.Seconds())
	}
	fmt.Fprintf(&b, "%s  %s / %s  %s  stage: %s\n", bar(pct, 30), p.Elapsed.Round(time.Second), p.Total, fmt.Sprintf("%3.0f%%", pct), p.Stage)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "interface\ttarget\tachieved\tp99\tsystem ok\tbusiness ok\tdone\tdropped\tin flight\t")
	for _, i := range p.Interfaces {
		target := fmt.Sprintf("%.1f/s", i.TargetRate)
		if i.Users > 0 {
			target = fmt.Sprintf("%d users", i.Users)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f/s\t%s\t%s\t%s\t%d\t%d\t%d\t\n", i.Name, target, i.AchievedRate,
			fmtSeconds(i.P99.Seconds()), fmtPercent(i.SystemSuccess), fmtPercent(i.BusinessSuccess), i.Completed, i.Dropped, i.InFlight)
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	if p.Saturated {
		fmt.Fprintf(&b, "WARNING: %s\n", saturatedWarning)
	}
	view := b.String()
	if pp.lines > 0 {
		view = fmt.Sprintf("\x1b[%dA\x1b[J", pp.lines) + view // over the previous view
	}
	pp.lines = strings.Count(b.String(), "\n")
	_, _ = io.WriteString(pp.W, view) // best effort, as every progress line
}

func bar(pct float64, width int) string {
	n := int(pct / 100 * float64(width))
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}

// guard aborts the run when the system success ratio over the guard's
// window, all interfaces together, falls below the red line.
func (e *engine) guard(ctx context.Context, abort context.CancelCauseFunc) {
	g := e.s.Guard
	type sample struct {
		at       time.Time
		done, ok uint64
	}
	var hist []sample
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var cur sample
			cur.at = now
			for _, st := range e.stats {
				c := st.allCounts()
				cur.done += c.completed()
				cur.ok += c.Outcomes[Success] + c.Outcomes[BusinessFailure]
			}
			hist = append(hist, cur)
			// Keep the newest sample at least a window old as the base.
			for len(hist) > 1 && now.Sub(hist[1].at) >= g.Window.D() {
				hist = hist[1:]
			}
			base := hist[0]
			n := cur.done - base.done
			if n < uint64(g.MinRequests) {
				continue
			}
			if r := float64(cur.ok-base.ok) / float64(n); r < g.MinSystemSuccess {
				e.guardAborted.Store(true)
				e.opts.Logger.Error("guard: aborting the run to protect the target",
					"system_success", fmt.Sprintf("%.3f", r), "min_system_success", g.MinSystemSuccess,
					"window", g.Window.D(), "requests", n)
				abort(ErrGuardAborted)
				return
			}
		}
	}
}
