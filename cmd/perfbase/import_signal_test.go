package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImportInterrupted: Ctrl-C during an import of a long stream of
// malformed rows with no limit on them stops it promptly with exit 130,
// after showing progress, and nothing of the file is written.
func TestImportInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// An endless stream: a named pipe fed until the import stops reading.
	f := filepath.Join(dir, "bad.jtl")
	if err := syscall.Mkfifo(f, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		w, err := os.OpenFile(f, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer func() { _ = w.Close() }()
		if _, err := w.WriteString("timeStamp,elapsed,label,responseCode,success\n"); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("x,y,a,200,true\n"), 4096)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}()
	cmd := exec.Command(binary(t), "import", "--data-dir", filepath.Join(dir, "st"), "--max-malformed", "-1", f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("exit %v, want 130\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("import still running 20 s after SIGINT\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "rows/s") || !strings.Contains(stderr.String(), "NOT imported") {
		t.Errorf("no progress or no outcome shown:\n%s", stderr.String())
	}
}
