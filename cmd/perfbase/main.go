// Command perfbase drives load against business interfaces, exports
// per-interface latency and success metrics, and compares each month with
// its baseline. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync/atomic"
	"syscall"

	"github.com/alecthomas/kong"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit codes, the same for every command so CI can gate on them.
const (
	exitOK       = 0
	exitFailed   = 1 // thresholds failed, guard aborted, regression found
	exitBadInput = 2 // bad flags, bad files: nothing was done
	// exitInterrupted is the shell's code for SIGINT: the command was
	// stopped by the user and cleaned up after itself.
	exitInterrupted = 130
	// exitTerminated is the shell's code for SIGTERM, used when that was
	// the signal that stopped the command.
	exitTerminated = 143
)

// exitError carries an exit code with its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as the user's input being wrong: exit code 2.
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

// failed marks a completed command whose verdict is negative: exit code 1.
func failed(err error) error { return &exitError{code: exitFailed, err: err} }

// closeInto closes c and adds its error to *err: a store or file that did
// not close cleanly may not hold what was written, so the command fails.
// An exit code already chosen (bad input, regression, interrupt) is kept.
func closeInto(err *error, c io.Closer, what string) {
	cerr := c.Close()
	if cerr == nil {
		return
	}
	cerr = fmt.Errorf("close %s: %w", what, cerr)
	var ee *exitError
	if errors.As(*err, &ee) {
		ee.err = errors.Join(ee.err, cerr)
		return
	}
	*err = errors.Join(*err, cerr)
}

// run parses args, runs the selected command and returns the exit code.
// Signals cancel the command's context, so commands stop cleanly.
func run(args []string, stdout, stderr io.Writer) int {
	var cli CLI
	exit := -1
	parser, err := kong.New(&cli,
		kong.Name("perfbase"),
		kong.Description("Load driver, exporter and baseline-regression analyzer for business interfaces."),
		kong.UsageOnError(),
		// "--max-malformed -1": a value may start with a hyphen.
		kong.WithHyphenPrefixedParameters(true),
		kong.DefaultEnvars("PERFBASE"),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, Summary: true}),
		kong.Vars{"version": versionString()},
		defaultVars(),
	)
	if err != nil {
		fmt.Fprintf(stderr, "perfbase: %v\n", err)
		return exitBadInput
	}
	kctx, err := parser.Parse(args)
	if exit >= 0 { // --help or --version
		return exit
	}
	if err != nil {
		parser.Errorf("%v", err)
		return exitBadInput
	}

	ctx, quit, first, stop := signalContext()
	defer stop()
	globals := &Globals{Stdout: stdout, Stderr: stderr, ctx: ctx, quit: quit, signal: first}
	if err := globals.setup(&cli.GlobalFlags); err != nil {
		fmt.Fprintf(stderr, "perfbase: %v\n", err)
		return exitBadInput
	}
	if cli.CPUProfile != "" {
		stopProfile, err := startCPUProfile(cli.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "perfbase: --cpu-profile: %v\n", err)
			return exitBadInput
		}
		defer stopProfile()
	}
	if err := kctx.Run(globals); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintf(stderr, "perfbase: %v\n", ee.err)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "perfbase: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// signalContext returns a context cancelled by the first SIGINT or SIGTERM
// (the command stops cleanly), a channel closed by the second (the user
// insists: requests in flight, lingering and waiting end now), and the
// first signal once there was one.
func signalContext() (context.Context, <-chan struct{}, func() os.Signal, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	quit := make(chan struct{})
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var first atomic.Value // os.Signal
	go func() {
		select {
		case s := <-sig:
			first.Store(s)
			cancel()
		case <-done:
			return
		}
		select {
		case <-sig:
			close(quit)
		case <-done:
		}
	}()
	firstSignal := func() os.Signal {
		s, _ := first.Load().(os.Signal)
		return s
	}
	return ctx, quit, firstSignal, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close() // the profile is written; a failed close loses nothing we could report
	}, nil
}
