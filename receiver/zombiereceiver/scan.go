package zombiereceiver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// zombie is one defunct process and where it ran.
type zombie struct {
	pid, ppid  int
	age        time.Duration
	parentComm string // only when asked for
	placement  placement
}

// userHZ is the clock tick of /proc/<pid>/stat's start time: 100 on every Linux architecture
// (procfs's ProcStat.StartTime assumes the same).
const userHZ = 100

// scanner finds the zombies under one proc file system.
type scanner struct {
	path          string
	parentCommand bool
	buf           [512]byte // the state check's read buffer; scans never run concurrently
}

// scan returns every zombie, or err when the proc file system cannot be listed. A process that
// exits during the scan is skipped; any other process that cannot be read is counted in skipped
// while the scan goes on.
func (s *scanner) scan(now time.Time) (zombies []zombie, skipped, err error) {
	proc, err := procfs.NewFS(s.path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", s.path, err)
	}
	procs, err := proc.AllProcs()
	if err != nil {
		return nil, nil, fmt.Errorf("listing processes in %s: %w", s.path, err)
	}
	// Opening <pid>/stat relative to the directory spares the kernel the walk to it each time.
	dir, err := syscall.Open(s.path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", s.path, err)
	}
	defer func() { _ = syscall.Close(dir) }()
	var (
		bootTime   float64
		unreadable int
		firstErr   error
	)
	fail := func(err error) {
		if unreadable++; firstErr == nil {
			firstErr = err
		}
	}
	for _, p := range procs {
		z, err := s.zombieState(dir, p.PID)
		if err != nil || !z {
			if err != nil && !gone(err) {
				fail(err)
			}
			continue
		}
		st, err := p.Stat()
		if err != nil {
			if !gone(err) {
				fail(err)
			}
			continue
		}
		// A leader that exited while its other threads run shows Z too, but it is no zombie.
		if st.State != "Z" || st.NumThreads > 1 {
			continue
		}
		if bootTime == 0 {
			stat, err := proc.Stat()
			if err != nil {
				return nil, nil, fmt.Errorf("reading the boot time from %s/stat: %w", s.path, err)
			}
			bootTime = float64(stat.BootTime)
		}
		started := time.Unix(0, int64((bootTime+float64(st.Starttime)/userHZ)*1e9))
		zombies = append(zombies, s.describe(proc, p, st, max(0, now.Sub(started))))
	}
	if unreadable > 0 {
		skipped = fmt.Errorf("%d processes in %s could not be read, e.g.: %w", unreadable, s.path, firstErr)
	}
	return zombies, skipped, nil
}

// describe places a zombie: its own cgroup, or its parent's when its own names no container
// (cgroup v1 shows every zombie in the root cgroup; the parent that does not reap it is usually
// the container's init).
func (s *scanner) describe(proc procfs.FS, p procfs.Proc, st procfs.ProcStat, age time.Duration) zombie {
	z := zombie{pid: p.PID, ppid: st.PPID, age: age}
	if cgroups, err := p.Cgroups(); err == nil {
		z.placement = placementOf(cgroups)
	}
	if z.placement.known() && !s.parentCommand {
		return z
	}
	parent, err := proc.Proc(st.PPID)
	if err != nil {
		return z
	}
	if !z.placement.known() {
		if cgroups, err := parent.Cgroups(); err == nil {
			z.placement = placementOf(cgroups)
		}
	}
	if s.parentCommand {
		z.parentComm, _ = parent.Comm()
	}
	return z
}

// zombieState reads only as far as the state field of /proc/<pid>/stat: the scan's hot path, so
// that only zombies pay for procfs's full parse (its fmt.Fscan of 42 fields makes a scan 2-3 times
// as expensive; docs/benchmarks.md). The state is the first character after the command name's
// closing parenthesis (proc(5)); the name may contain ')', the numbers after it cannot.
func (s *scanner) zombieState(dir, pid int) (bool, error) {
	name := strconv.Itoa(pid) + "/stat"
	fd, err := syscall.Openat(dir, name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false, &fs.PathError{Op: "open", Path: s.path + "/" + name, Err: err}
	}
	n, err := syscall.Read(fd, s.buf[:])
	_ = syscall.Close(fd)
	if err != nil {
		return false, &fs.PathError{Op: "read", Path: s.path + "/" + name, Err: err}
	}
	line := s.buf[:max(n, 0)]
	end := bytes.LastIndexByte(line, ')')
	return end >= 0 && end+2 < len(line) && line[end+2] == 'Z', nil
}

// gone says a process exited between the listing and the read.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}
