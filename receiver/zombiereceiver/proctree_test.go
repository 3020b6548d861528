package zombiereceiver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeProc is one process of a synthetic proc file system (a temp dir standing in for /proc).
type fakeProc struct {
	pid, ppid  int
	comm       string
	state      byte
	threads    int    // default 1
	startTicks uint64 // clock ticks after boot
	cgroup     string // the whole /proc/<pid>/cgroup; default: the root of cgroup v2
}

// v2 is a /proc/<pid>/cgroup of the unified hierarchy alone.
func v2(path string) string { return "0::" + path + "\n" }

// v1 is a /proc/<pid>/cgroup of a cgroup v1 (hybrid) host with path in every v1 hierarchy.
func v1(path string) string {
	var b strings.Builder
	for i, c := range []string{"cpu,cpuacct", "memory", "pids", "name=systemd"} {
		fmt.Fprintf(&b, "%d:%s:%s\n", 4-i, c, path)
	}
	return b.String() + "0::/\n"
}

// writeProcTree writes root/proc with a boot time and the processes; it returns root/proc.
func writeProcTree(t testing.TB, root string, bootTime int64, procs ...fakeProc) string {
	t.Helper()
	proc := filepath.Join(root, "proc")
	require.NoError(t, os.MkdirAll(proc, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(proc, "stat"),
		fmt.Appendf(nil, "cpu  10 0 10 1000 0 0 0 0 0 0\ncpu0 10 0 10 1000 0 0 0 0 0 0\nintr 0\nctxt 0\nbtime %d\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n", bootTime), 0o644))
	for _, p := range procs {
		dir := filepath.Join(proc, fmt.Sprint(p.pid))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		threads := max(p.threads, 1)
		cgroup := p.cgroup
		if cgroup == "" {
			cgroup = v2("/")
		}
		// proc(5): 52 fields; state, ppid, num_threads (20) and starttime (22) are the ones read.
		stat := fmt.Sprintf("%d (%s) %c %d %d %d 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 %d 0 %d 8192000 210 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
			p.pid, p.comm, p.state, p.ppid, p.pid, p.pid, threads, p.startTicks)
		for name, content := range map[string]string{"stat": stat, "cgroup": cgroup, "comm": p.comm + "\n"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
		}
	}
	return proc
}
