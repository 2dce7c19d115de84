package testservers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a server may take to become ready. The
// Debian builds are ready in well under a second; the margin is for loaded
// CI machines running tests in parallel.
const readyTimeout = 30 * time.Second

// Server is a started server.
type Server struct {
	// URL is the base URL, like http://127.0.0.1:PORT, without a trailing slash.
	URL string
	// Dir is the server's own temporary directory: data, config and log.
	Dir string
}

// Need returns the absolute path of binary. When it is not installed the
// test is skipped, or fails when the CI environment variable is "true".
func Need(t testing.TB, binary string) string {
	t.Helper()
	path, err := exec.LookPath(binary)
	if err == nil {
		if abs, aerr := filepath.Abs(path); aerr == nil {
			return abs
		}
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testservers: %s is required in CI but not installed: %v", binary, err)
	}
	t.Skipf("testservers: %s not installed (set CI=true to make this fatal): %v", binary, err)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testservers: could not find a free port: %v", err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Fatalf("testservers: %v", err)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// Prometheus starts a Prometheus server with configYAML as its config file
// (an empty string means an empty config), 10 years of retention and
// extraArgs appended to the command line (e.g.
// "--web.enable-remote-write-receiver"); an extra argument for a flag set
// by default (e.g. "--storage.tsdb.path=DIR" to serve backfilled blocks)
// replaces the default.
func Prometheus(t testing.TB, configYAML string, extraArgs ...string) *Server {
	t.Helper()
	bin := Need(t, "prometheus")
	dir := t.TempDir()
	cfg := writeFile(t, dir, "prometheus.yml", configYAML)
	args := []string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--storage.tsdb.retention.time=10y",
		"--web.listen-address=" + hostPort(t),
	}
	return start(t, dir, bin, withOverrides(args, extraArgs), "/-/ready", "--web.listen-address=")
}

// withOverrides appends extra to args, dropping the defaults in args whose
// flag extra sets again (e.g. --storage.tsdb.path=DIR to serve backfilled
// blocks): the servers refuse a repeated flag.
func withOverrides(args, extra []string) []string {
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		overridden := false
		for _, e := range extra {
			if en, _, _ := strings.Cut(e, "="); en == name {
				overridden = true
			}
		}
		if !overridden {
			out = append(out, a)
		}
	}
	return append(out, extra...)
}

// VictoriaMetrics starts a single-node VictoriaMetrics with 100 years of
// retention (its default of one month silently drops older imports) and no
// search latency offset (otherwise the last 30 s are invisible).
func VictoriaMetrics(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	bin := Need(t, "victoria-metrics")
	dir := t.TempDir()
	args := []string{
		"-storageDataPath=" + filepath.Join(dir, "data"),
		"-httpListenAddr=" + hostPort(t),
		"-retentionPeriod=100y",
		"-search.latencyOffset=0s",
	}
	return start(t, dir, bin, withOverrides(args, extraArgs), "/health", "-httpListenAddr=")
}

// Alertmanager starts an Alertmanager with configYAML as its config file
// and clustering disabled.
func Alertmanager(t testing.TB, configYAML string) *Server {
	t.Helper()
	bin := Need(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := writeFile(t, dir, "alertmanager.yml", configYAML)
	args := []string{
		"--config.file=" + cfg,
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + hostPort(t),
		"--cluster.listen-address=",
	}
	return start(t, dir, bin, args, "/-/ready", "--web.listen-address=")
}

// Pushgateway starts a Pushgateway without persistence.
func Pushgateway(t testing.TB) *Server {
	t.Helper()
	bin := Need(t, "prometheus-pushgateway")
	dir := t.TempDir()
	args := []string{"--web.listen-address=" + hostPort(t)}
	return start(t, dir, bin, args, "/-/ready", "--web.listen-address=")
}

func hostPort(t testing.TB) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("testservers: could not write %s: %v", path, err)
	}
	return path
}

// start runs bin with args, logging to Dir/server.log, and waits until
// readyPath answers 200. addrFlag is the prefix of the argument holding the
// listen address. A port taken between FreePort and the server's bind is
// retried with another port.
func start(t testing.TB, dir, bin string, args []string, readyPath, addrFlag string) *Server {
	t.Helper()
	const attempts = 3
	var lastErr error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			for i, a := range args {
				if strings.HasPrefix(a, addrFlag) {
					args[i] = addrFlag + hostPort(t)
				}
			}
		}
		srv, err := startOnce(t, dir, bin, args, readyPath, addrFlag)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("testservers: %s did not start: %v", filepath.Base(bin), lastErr)
	return nil
}

func startOnce(t testing.TB, dir, bin string, args []string, readyPath, addrFlag string) (*Server, error) {
	t.Helper()
	var addr string
	for _, a := range args {
		if rest, ok := strings.CutPrefix(a, addrFlag); ok {
			addr = rest
		}
	}
	logPath := filepath.Join(dir, filepath.Base(bin)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// A process group of its own, so that killing it never reaches the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, errors.Join(err, logFile.Close()))
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	stop := func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited: //nolint:errcheck // killed: its exit status says nothing
		case <-time.After(10 * time.Second):
		}
		_ = logFile.Close() // only read to explain a failure
	}

	srv := &Server{URL: "http://" + addr, Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := waitReady(ctx, srv.URL+readyPath, exited); err != nil {
		stop()
		t.Logf("testservers: %s %v\n--- log %s ---\n%s", bin, args, logPath, readLog(logPath))
		return nil, err
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("testservers: --- log of %s (%s) ---\n%s", filepath.Base(bin), srv.URL, readLog(logPath))
		}
	})
	return srv, nil
}

func waitReady(ctx context.Context, url string, exited <-chan error) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			if err == nil {
				return fmt.Errorf("exited with status 0 before becoming ready at %s", url)
			}
			return fmt.Errorf("exited before becoming ready at %s: %w", url, err)
		case <-ctx.Done():
			return fmt.Errorf("not ready at %s after %s", url, readyTimeout)
		case <-tick.C:
		}
	}
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(could not read log: %v)", err)
	}
	const max = 16 << 10
	if len(b) > max {
		return "...\n" + string(b[len(b)-max:])
	}
	return string(b)
}
