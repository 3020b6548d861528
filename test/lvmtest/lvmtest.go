// Package lvmtest makes real LVM volume groups on file-backed loop devices for tests and the demo,
// and removes them again.
package lvmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Prefix starts the name of every volume group made here; the creating process id follows, so a
// later run can remove what a killed one left behind.
const Prefix = "otelcoltest_"

// VG is a volume group on one loop device.
type VG struct {
	Name   string // full name: Prefix, pid, the caller's name
	Device string // the loop device
	File   string // the sparse file behind it
}

var (
	availableOnce sync.Once
	availableErr  error
)

// Available says whether volume groups can be made here: root, losetup and LVM's tools, installed
// with apt-get when missing (once per process).
func Available() error {
	availableOnce.Do(func() { availableErr = available() })
	return availableErr
}

func available() error {
	if os.Geteuid() != 0 {
		return errors.New("not root: loop devices and volume groups need root")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		return fmt.Errorf("losetup missing: %w", err)
	}
	if _, err := exec.LookPath("vgcreate"); err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "apt-get", "install", "-y", "-qq", "lvm2")
	install.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("lvm2 is not installed and apt-get install lvm2 failed: %w\n%s", err, lastLines(out, 5))
	}
	if _, err := exec.LookPath("vgcreate"); err != nil {
		return fmt.Errorf("apt-get installed lvm2 but vgcreate is still missing: %w", err)
	}
	return nil
}

// Require skips t, saying why, unless volume groups can be made here.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("needs a real LVM volume group: %v", err)
	}
}

// CreateT makes a volume group of size bytes for one test; it is removed when the test ends,
// whether it passed or not.
func CreateT(t testing.TB, name string, size int64) *VG {
	t.Helper()
	Require(t)
	vg, err := Create(context.Background(), t.TempDir(), name, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := vg.Remove(); err != nil {
			t.Errorf("removing volume group %s: %v", vg.Name, err)
		}
	})
	return vg
}

// Create makes a volume group named Prefix<pid>_<name> on a new loop device over a sparse file of
// size bytes in dir. On error, whatever it made is removed again.
func Create(ctx context.Context, dir, name string, size int64) (vg *VG, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	removeStale(ctx)
	vg = &VG{Name: fmt.Sprintf("%s%d_%s", Prefix, os.Getpid(), name), File: filepath.Join(dir, name+".img")}
	defer func() {
		if err != nil {
			err = errors.Join(err, vg.Remove())
		}
	}()
	f, err := os.Create(vg.File)
	if err != nil {
		return vg, err
	}
	err = errors.Join(f.Truncate(size), f.Close())
	if err != nil {
		return vg, err
	}
	out, err := Run(ctx, "losetup", "--find", "--show", vg.File)
	if err != nil {
		return vg, err
	}
	vg.Device = strings.TrimSpace(string(out))
	if _, err = Run(ctx, "pvcreate", "--yes", vg.Device); err != nil {
		return vg, err
	}
	_, err = Run(ctx, "vgcreate", "--yes", vg.Name, vg.Device)
	return vg, err
}

// Remove removes the volume group with its logical volumes, the physical volume label, the loop
// device and the file. It tries every step and reports what failed.
func (vg *VG) Remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if vg.Device != "" {
		if exists(ctx, vg.Name) {
			if _, err := Run(ctx, "vgremove", noDeviceMapper("--force", "--yes", vg.Name)...); err != nil {
				errs = append(errs, err)
			}
		}
		if _, err := Run(ctx, "pvremove", "--force", "--yes", vg.Device); err != nil && !strings.Contains(err.Error(), "not a PV") && !strings.Contains(err.Error(), "No PV") {
			errs = append(errs, err)
		}
		if _, err := Run(ctx, "losetup", "--detach", vg.Device); err != nil {
			errs = append(errs, err)
		}
	}
	if vg.File != "" {
		if err := os.Remove(vg.File); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run runs an LVM (or util-linux) command and returns its stdout; a failure carries the stderr.
func Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LVM_SUPPRESS_FD_WARNINGS=1", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, lastLines(stderr.Bytes(), 5))
	}
	return stdout.Bytes(), nil
}

// noDeviceMapper adds --driverloaded n where the kernel has no device-mapper (containers,
// micro-VMs): metadata-only changes then work instead of failing to talk to the driver.
// (/dev/mapper/control is no sign: libdevmapper creates the node even when the driver is absent.)
func noDeviceMapper(args ...string) []string {
	misc, err := os.ReadFile("/proc/misc")
	if err == nil && !bytes.Contains(misc, []byte(" device-mapper\n")) {
		return append([]string{"--driverloaded", "n"}, args...)
	}
	return args
}

func exists(ctx context.Context, vg string) bool {
	out, err := Run(ctx, "vgs", "--noheadings", "-o", "vg_name")
	if err != nil {
		return true // let vgremove say what is wrong
	}
	for _, name := range strings.Fields(string(out)) {
		if name == vg {
			return true
		}
	}
	return false
}

// removeStale removes volume groups of this package whose process is gone (a test binary killed
// by its timeout runs no cleanup), with their loop devices.
func removeStale(ctx context.Context) {
	out, err := Run(ctx, "pvs", "--noheadings", "--separator", " ", "-o", "pv_name,vg_name")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 || !strings.HasPrefix(fields[1], Prefix) {
			continue
		}
		pidText, _, _ := strings.Cut(strings.TrimPrefix(fields[1], Prefix), "_")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue
		}
		stale := &VG{Name: fields[1], Device: fields[0]}
		_ = stale.Remove()
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
