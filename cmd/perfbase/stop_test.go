package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// signalSlack is how long after a signal is sent the process may take to
// see it; a request the target receives later than that was sent after
// the stop.
const signalSlack = 20 * time.Millisecond

// arrivalLog is a target that notes when each request arrived and can hold
// its answers.
type arrivalLog struct {
	mu    sync.Mutex
	times []time.Time
	hold  time.Duration
}

func (l *arrivalLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.times = append(l.times, time.Now())
	hold := l.hold
	l.mu.Unlock()
	if hold > 0 {
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
			return
		}
	}
	_, _ = w.Write([]byte(`{"code":"0000"}`))
}

func (l *arrivalLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.times)
}

// after counts the requests that arrived after t.
func (l *arrivalLog) after(t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.times {
		if at.After(t) {
			n++
		}
	}
	return n
}

// TestRunStopsPromptly signals a real perfbase process during a slow stage
// (one arrival every 20 s), a fast one, and one whose requests hang: it
// ends within one request timeout, with the exit code of the signal, and
// the target sees no request sent after the signal. A second signal ends
// the wait for hanging requests at once.
func TestRunStopsPromptly(t *testing.T) {
	// Not parallel: its load would skew the latency-sensitive tests
	// that run in parallel.
	bin := binary(t)
	for _, c := range []struct {
		name     string
		stage    string
		hold     time.Duration // how long the target holds each answer
		warm     int           // requests the target sees before the signal
		signals  []syscall.Signal
		code     int
		maxAfter time.Duration // signal to exit
	}{
		{"slow stage", "{duration: 10m, rate: 0.05}", 0, 0, []syscall.Signal{syscall.SIGINT}, exitInterrupted, 3 * time.Second},
		{"fast stage", "{duration: 10m, rate: 300}", 0, 100, []syscall.Signal{syscall.SIGINT}, exitInterrupted, 3 * time.Second},
		{"fast stage, SIGTERM", "{duration: 10m, rate: 300}", 0, 100, []syscall.Signal{syscall.SIGTERM}, exitTerminated, 3 * time.Second},
		// Requests held for a minute against a 3 s timeout: the first
		// signal would wait for them; the second ends the wait.
		{"second signal", "{duration: 10m, rate: 50}", time.Minute, 20, []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, exitInterrupted, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			target := &arrivalLog{hold: c.hold}
			srv := httptest.NewServer(target)
			t.Cleanup(srv.Close)
			scen := writeScenario(t, srv.URL, `name: stop
target: TARGET
defaults: {timeout: 3s, expect: {status: [200]}}
interfaces:
  - {name: query_balance, path: /api/balance}
stages:
  - `+c.stage+"\n")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sumPath := filepath.Join(t.TempDir(), "summary.json")
			cmd := exec.CommandContext(ctx, bin, "run", "--listen", "", "--progress", "off", "--no-store",
				"--summary-json", sumPath, scen)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitUntil := time.Now().Add(time.Second) // the slow stage sends nothing in its first 20 s
			for (target.count() < c.warm || time.Now().Before(waitUntil)) && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(c.signals[0]); err != nil {
				t.Fatal(err)
			}
			if len(c.signals) > 1 {
				time.Sleep(500 * time.Millisecond) // the first signal's stop is under way
				sent = time.Now()
				if err := cmd.Process.Signal(c.signals[1]); err != nil {
					t.Fatal(err)
				}
			}
			err := cmd.Wait()
			took := time.Since(sent)
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, c.code, stdout.String(), stderr.String())
			}
			if took > c.maxAfter {
				t.Errorf("exited %v after the signal, want within %v", took.Round(time.Millisecond), c.maxAfter)
			}
			if n := target.after(sent.Add(signalSlack)); n > 0 {
				t.Errorf("the target received %d requests more than %v after the signal", n, signalSlack)
			}
			sum := readSummary(t, sumPath)
			if !sum.Interrupted {
				t.Error("the summary does not say interrupted")
			}
			is := sum.Interfaces[0]
			if got := is.Success + is.BusinessFailure + is.SystemFailure + is.Dropped; got != is.Scheduled {
				t.Errorf("success+business+system+dropped = %d, scheduled = %d", got, is.Scheduled)
			}
			if c.warm == 0 && is.Scheduled != 0 {
				t.Errorf("slow stage: %d requests scheduled in its first second, want 0", is.Scheduled)
			}
		})
	}
}
