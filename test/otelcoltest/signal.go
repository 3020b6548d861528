package otelcoltest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// StartWithEnv is Start with extra environment variables ("KEY=value") for this process only,
// e.g. a POD_NAME per replica.
func StartWithEnv(t testing.TB, configPath string, env []string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(Binary(t), append([]string{"--config=" + configPath}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return runCmd(t, cmd)
}

// Signal sends sig (SIGHUP reloads the config) to a running process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill ends the process with SIGKILL, as a crash or an OOM kill would, and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Pid is the process' id, for reading /proc and for signals a test sends itself.
func (p *Process) Pid() int { return p.cmd.Process.Pid }
