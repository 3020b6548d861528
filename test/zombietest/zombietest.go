// Package zombietest makes real zombie processes, optionally inside cgroups shaped like a
// container runtime's, for tests and the demo, and reaps them again.
package zombietest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// Options says where the zombie's parent runs. Paths are relative to the cgroup mount and created
// when missing (and removed again at Reap); empty leaves the parent where this process is.
type Options struct {
	// Cgroup2 is a path in the unified (v2) hierarchy, e.g.
	// "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope".
	Cgroup2 string
	// Cgroup1 is a path in the v1 memory hierarchy, e.g. "kubepods/burstable/pod<uid>/<id>".
	Cgroup1 string
}

// Zombie is a child process that exited and that its parent never reaps.
type Zombie struct {
	PID       int // the zombie
	ParentPID int // a `sleep`, which never waits for children
	parent    *exec.Cmd
	dirs      []string // cgroups created, innermost last
	reapOnce  sync.Once
	reapErr   error
}

var subreaperOnce sync.Once

// Start makes a zombie: a shell moves itself into the cgroups, forks a child that exits at once,
// and becomes `sleep 3600`. This process becomes a child subreaper, so Reap collects the orphaned
// zombie itself instead of leaving it to init.
func Start(opts Options) (z *Zombie, err error) {
	var subreaperErr error
	subreaperOnce.Do(func() { subreaperErr = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
	if subreaperErr != nil {
		return nil, fmt.Errorf("becoming a child subreaper: %w", subreaperErr)
	}
	z = &Zombie{}
	defer func() {
		if err != nil {
			err = errors.Join(err, z.Reap())
		}
	}()
	var procs []string
	for _, c := range []struct{ fsType, option, path string }{{"cgroup2", "", opts.Cgroup2}, {"cgroup", "memory", opts.Cgroup1}} {
		if c.path == "" {
			continue
		}
		dir, err := z.makeCgroup(c.fsType, c.option, c.path)
		if err != nil {
			return z, err
		}
		procs = append(procs, filepath.Join(dir, "cgroup.procs"))
	}
	// The shell waits for a line on stdin (sent once it is in its cgroups), then forks.
	parent := exec.Command("sh", "-c", `read _ && { sleep 0 & echo $!; exec sleep 3600; }`)
	stdin, err := parent.StdinPipe()
	if err != nil {
		return z, err
	}
	stdout, err := parent.StdoutPipe()
	if err != nil {
		return z, err
	}
	if err := parent.Start(); err != nil {
		return z, err
	}
	z.parent, z.ParentPID = parent, parent.Process.Pid
	for _, p := range procs {
		if err := os.WriteFile(p, []byte(strconv.Itoa(z.ParentPID)), 0o644); err != nil {
			return z, fmt.Errorf("moving the parent into %s: %w", filepath.Dir(p), err)
		}
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		return z, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return z, fmt.Errorf("reading the child's pid: %w", err)
	}
	if z.PID, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
		return z, err
	}
	return z, z.waitState("Z")
}

// StartT makes a zombie for one test and reaps it when the test ends. It skips the test, saying
// why, when this process may not create the cgroups.
func StartT(t testing.TB, opts Options) *Zombie {
	t.Helper()
	if os.Geteuid() != 0 && (opts.Cgroup1 != "" || opts.Cgroup2 != "") {
		t.Skip("needs root to create cgroups")
	}
	z, err := Start(opts)
	var unavailable *UnavailableError
	if errors.As(err, &unavailable) {
		t.Skipf("cannot place a zombie in a cgroup here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := z.Reap(); err != nil {
			t.Errorf("reaping zombie %d: %v", z.PID, err)
		}
	})
	return z
}

// Reap kills the parent and waits for it and for the zombie, then removes the cgroups it made.
func (z *Zombie) Reap() error {
	z.reapOnce.Do(func() {
		var errs []error
		if z.parent != nil {
			_ = z.parent.Process.Kill()
			_ = z.parent.Wait() // killed: its error says so
		}
		if z.PID > 0 {
			// Orphaned, the zombie is this subreaper's child now.
			if _, err := syscall.Wait4(z.PID, nil, 0, nil); err != nil && !errors.Is(err, syscall.ECHILD) {
				errs = append(errs, fmt.Errorf("waiting for %d: %w", z.PID, err))
			}
		}
		for i := len(z.dirs) - 1; i >= 0; i-- {
			if err := removeCgroup(z.dirs[i]); err != nil {
				errs = append(errs, err)
			}
		}
		z.reapErr = errors.Join(errs...)
	})
	return z.reapErr
}

// UnavailableError says the machine has no writable cgroup hierarchy of the kind asked for.
type UnavailableError struct{ Reason string }

func (e *UnavailableError) Error() string { return e.Reason }

// makeCgroup creates path under the mount of fsType (with option among its super options), one
// directory at a time, remembering those it created.
func (z *Zombie) makeCgroup(fsType, option, path string) (string, error) {
	mount, err := cgroupMount(fsType, option)
	if err != nil {
		return "", err
	}
	dir := mount
	for part := range strings.SplitSeq(filepath.Clean(path), "/") {
		dir = filepath.Join(dir, part)
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", &UnavailableError{Reason: fmt.Sprintf("creating cgroup %s: %v", dir, err)}
		}
		z.dirs = append(z.dirs, dir)
	}
	return dir, nil
}

// cgroupMount finds where this process sees a cgroup file system.
func cgroupMount(fsType, option string) (string, error) {
	mounts, err := procfs.GetMounts()
	if err != nil {
		return "", err
	}
	for _, m := range mounts {
		if m.FSType != fsType {
			continue
		}
		if _, ok := m.SuperOptions[option]; option == "" || ok {
			return m.MountPoint, nil
		}
	}
	what := fsType
	if option != "" {
		what += " (" + option + ")"
	}
	return "", &UnavailableError{Reason: what + " is not mounted"}
}

// removeCgroup removes an empty cgroup; its last process may take a moment to leave it.
func removeCgroup(dir string) error {
	var err error
	for range 50 {
		if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// waitState waits until the child's state is want (a fork takes a moment to exit).
func (z *Zombie) waitState(want string) error {
	var state string
	for range 500 {
		stat, err := procfs.NewProc(z.PID)
		if err == nil {
			if s, err := stat.Stat(); err == nil {
				if state = s.State; state == want {
					return nil
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("process %d is in state %q, not %q, after 5s", z.PID, state, want)
}
