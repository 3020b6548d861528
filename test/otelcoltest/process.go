// Package otelcoltest runs the real otelcol-sealos binary in tests and reads what it exports.
package otelcoltest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is $OTELCOL_SEALOS_BIN, else bin/otelcol-sealos at the repository root (`make build`).
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the collector binary; skipped with -short")
	}
	bin := os.Getenv("OTELCOL_SEALOS_BIN")
	if bin == "" {
		_, here, _, _ := runtime.Caller(0)
		bin = filepath.Join(filepath.Dir(here), "..", "..", "bin", "otelcol-sealos")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("collector binary %s not found: run `make build` (or set OTELCOL_SEALOS_BIN)", bin)
	}
	return bin
}

// Process is a running collector.
type Process struct {
	cmd    *exec.Cmd
	output *LockedBuffer
	done   chan struct{}
	err    error
}

// Start runs the binary with --config=configPath; the process is stopped when the test ends.
func Start(t testing.TB, configPath string, args ...string) *Process {
	t.Helper()
	return Run(t, append([]string{"--config=" + configPath}, args...)...)
}

// Run runs the binary with args; the process is stopped when the test ends.
func Run(t testing.TB, args ...string) *Process {
	t.Helper()
	return runCmd(t, exec.Command(Binary(t), args...))
}

// Command starts any prepared command (Stdout/Stderr are captured) with the same life cycle: SIGTERM,
// then kill after 20s, when the test ends.
func Command(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	return runCmd(t, cmd)
}

func runCmd(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{cmd: cmd, output: &LockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting collector: %v", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("collector output:\n%s", p.Output())
		}
	})
	return p
}

// Stop sends SIGTERM and waits up to 20s, then kills.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Wait waits up to timeout for the process to exit and returns its exit code.
func (p *Process) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		return 0, fmt.Errorf("collector still running after %s", timeout)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, p.err
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output is everything the collector wrote so far.
func (p *Process) Output() string { return p.output.String() }

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// LockedBuffer is a bytes.Buffer safe for a process writing while a test reads.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
