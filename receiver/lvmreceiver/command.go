package lvmreceiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// hostPath is where a bare tool name is looked up under host_root: the host's own PATH is unknown,
// and LVM's tools live in the sbin directories.
var hostPath = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"}

// stderrTail bounds how much of a failed run's stderr reaches the status: LVM prints its last
// word last (a usage error prints the whole field list first).
const stderrTail = 1024

// runner runs one LVM report command.
type runner struct {
	hostRoot string
	prefix   []string
	timeout  time.Duration
}

// run runs tool with args and returns its stdout, or why it did not succeed: not found, killed
// after the timeout, or its exit status with the end of its stderr.
func (r runner) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	cmd, err := r.command(tool, args)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// LVM warns about every inherited descriptor; C numbers and plain bytes, whatever the locale.
	cmd.Env = append(os.Environ(), "LVM_SUPPRESS_FD_WARNINGS=1", "LC_ALL=C")
	cmd.WaitDelay = time.Second // a child that keeps the pipes open must not hold the cycle
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	stop := context.AfterFunc(runCtx, func() { _ = cmd.Process.Kill() })
	defer stop()
	err = cmd.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", tool, ctx.Err()) // the cycle ended: its reason, not ours
	}
	if runCtx.Err() != nil {
		return nil, fmt.Errorf("%s: no answer within %s (command_timeout), killed", tool, r.timeout)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil, fmt.Errorf("%s exited with status %d: %s", tool, exit.ExitCode(), lastBytes(stderr.Bytes(), stderrTail))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	return stdout.Bytes(), nil
}

// command builds the process: tool through the prefix, or chrooted into host_root.
func (r runner) command(tool string, args []string) (*exec.Cmd, error) {
	if len(r.prefix) > 0 {
		return exec.Command(r.prefix[0], append(append(r.prefix[1:len(r.prefix):len(r.prefix)], tool), args...)...), nil
	}
	if r.hostRoot == "" {
		return exec.Command(tool, args...), nil
	}
	inRoot, err := lookUnder(r.hostRoot, tool)
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: inRoot, Args: append([]string{tool}, args...)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: r.hostRoot}
	cmd.Dir = "/"
	return cmd, nil
}

// lookUnder finds tool inside root and returns its path as seen from inside root.
func lookUnder(root, tool string) (string, error) {
	candidates := []string{tool}
	if !strings.Contains(tool, "/") {
		candidates = candidates[:0]
		for _, dir := range hostPath {
			candidates = append(candidates, filepath.Join(dir, tool))
		}
	}
	for _, p := range candidates {
		info, err := os.Stat(filepath.Join(root, p))
		if err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	if len(candidates) == 1 {
		return "", fmt.Errorf("%s: no executable %s under host_root %s", tool, tool, root)
	}
	return "", fmt.Errorf("%s: no executable %s in %s under host_root %s", tool, tool, strings.Join(hostPath, ":"), root)
}

// lastBytes returns the end of b, trimmed, marking a cut.
func lastBytes(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) <= n {
		return string(b)
	}
	return "..." + string(b[len(b)-n:])
}
