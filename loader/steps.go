package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/perfbase/perfbase/loader/scenario"
)

// ErrSetupFailed is the cause of a run that sent no load because a set-up
// step failed.
var ErrSetupFailed = errors.New("set-up failed: no load was sent")

// StepResult is the outcome of one set-up or teardown step.
type StepResult struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"` // request or exec
	OK       bool    `json:"ok"`
	Status   int     `json:"status,omitempty"`
	Error    string  `json:"error,omitempty"`
	Duration float64 `json:"duration_seconds"`
}

// runSteps runs steps in order until one fails; the rest are skipped.
// They are not load: they never reach the interface metrics.
func (e *engine) runSteps(ctx context.Context, kind string, steps []scenario.Step, rt http.RoundTripper) ([]StepResult, bool) {
	var out []StepResult
	for i, st := range steps {
		name := st.Name
		if name == "" {
			name = fmt.Sprintf("%s[%d]", kind, i)
		}
		began := time.Now()
		r := StepResult{Name: name, Kind: "request"}
		var err error
		if st.IsExec() {
			r.Kind = "exec"
			err = e.runExec(ctx, st)
		} else {
			r.Status, err = e.runRequest(ctx, st, rt)
		}
		r.Duration = time.Since(began).Seconds()
		r.OK = err == nil
		if err != nil {
			r.Error = e.redact(err.Error())
			e.opts.Logger.Error(kind+" step failed", "step", name, "err", r.Error)
		} else {
			e.opts.Logger.Info(kind+" step done", "step", name, "seconds", fmt.Sprintf("%.3f", r.Duration))
		}
		out = append(out, r)
		if err != nil {
			return out, false
		}
	}
	return out, true
}

func (e *engine) redact(s string) string {
	f := FailureSamples{secrets: e.s.Secrets}
	return f.redact(s)
}

func (e *engine) runRequest(ctx context.Context, st scenario.Step, rt http.RoundTripper) (int, error) {
	it := scenario.Interface{Name: "step", Method: st.Method, Path: st.Path, Headers: st.Headers, Body: st.Body, Timeout: st.Timeout, Expect: st.Expect}
	cls := newClassifier(st.Expect)
	keep := int64(0)
	if cls.business {
		keep = e.s.Defaults.MaxBody
	}
	snd, err := newSender(e.s, it, rt, keep, e.opts.RunID, nil)
	if err != nil {
		return 0, err
	}
	var sl slot
	r := snd.do(ctx, &sl, func() {}, false)
	errText := ""
	if r.err != nil {
		errText = r.err.Error()
	}
	o, reason, _ := cls.classify(uint16(r.code), errText, r.body)
	if o != Success {
		if r.err != nil {
			return r.code, fmt.Errorf("%s %s: %s: %w", st.Method, st.Path, reason, r.err)
		}
		return r.code, fmt.Errorf("%s %s: %s (status %d)", st.Method, st.Path, reason, r.code)
	}
	return r.code, nil
}

func (e *engine) runExec(ctx context.Context, st scenario.Step) error {
	ctx, cancel := context.WithTimeout(ctx, st.Timeout.D())
	defer cancel()
	cmd := exec.CommandContext(ctx, st.Exec[0], st.Exec[1:]...) //nolint:gosec // the user's own command from the scenario
	cmd.Dir = filepath.Dir(e.s.File)
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s: timed out after %s", st.Exec[0], st.Timeout)
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %s", st.Exec[0], err, strings.TrimSpace(out.String()))
	}
	return nil
}

// tailBuffer keeps the last 2 KiB written: what a failed command said last.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if over := t.b.Len() - 2048; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }
