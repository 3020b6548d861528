package zombiereceiver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/zombiereceiver/internal/metadata"
)

// benchProcesses is the node size of the scan benchmarks (ZOMBIE_BENCH_PROCESSES overrides).
func benchProcesses(b *testing.B) int {
	if v := os.Getenv("ZOMBIE_BENCH_PROCESSES"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err)
		return n
	}
	return 10_000
}

// benchTree writes a synthetic node of n processes, 1% of them zombies: 110 pods of containers in
// the cgroup shapes of containerd, CRI-O and Docker, the rest on the host. ZOMBIE_BENCH_DIR picks
// the file system (default: the test's temp dir).
func benchTree(b *testing.B, n int) string {
	b.Helper()
	dir := os.Getenv("ZOMBIE_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		var err error
		dir, err = os.MkdirTemp(dir, "zombiebench-")
		require.NoError(b, err)
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	procs := make([]fakeProc, 0, n)
	for i := range n {
		pid := 1000 + i
		pod := i % 110
		uid := fmt.Sprintf("%08x-0000-4000-8000-%012x", pod, pod)
		id := fmt.Sprintf("%064x", i%330)
		var cgroup string
		switch i % 4 {
		case 0:
			cgroup = v2("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + underscored(uid) + ".slice/cri-containerd-" + id + ".scope")
		case 1:
			cgroup = v2("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + underscored(uid) + ".slice/crio-" + id + ".scope")
		case 2:
			cgroup = v1("/kubepods/burstable/pod" + uid + "/" + id)
		default:
			cgroup = v2("/system.slice/service-" + strconv.Itoa(i%50) + ".service")
		}
		state, ppid := byte('S'), 1
		if i%100 == 99 {
			state, ppid = 'Z', pid-1
		}
		procs = append(procs, fakeProc{pid: pid, ppid: ppid, comm: "proc-" + strconv.Itoa(i%97), state: state, startTicks: uint64(1000 + i), cgroup: cgroup})
	}
	return writeProcTree(b, dir, time.Now().Add(-time.Hour).Unix(), procs...)
}

// cpuTime is this process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU times the loop and reports CPU per iteration next to ns/op.
func reportCPU(b *testing.B, loop func()) {
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime(b)
	for b.Loop() {
		loop()
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/1000/float64(b.N), "cpu-ms/scan")
}

// BenchmarkScan is one cycle of the receiver (scan, grouping, metrics) over a synthetic proc tree,
// and, for comparison, what a scan calling procfs's full Stat parse on every process costs.
func BenchmarkScan(b *testing.B) {
	n := benchProcesses(b)
	proc := benchTree(b, n)
	root := proc[:len(proc)-len("/proc")]

	b.Run(fmt.Sprintf("cycle/processes=%d", n), func(b *testing.B) {
		src := newZombieSource(noAPIConfig(root), receivertest.NewNopSettings(metadata.Type))
		reportCPU(b, func() {
			md, err := src.Collect(context.Background())
			if err != nil || md.DataPointCount() == 0 {
				b.Fatal(err, md.DataPointCount())
			}
		})
	})
	b.Run(fmt.Sprintf("procfs-stat-every-process/processes=%d", n), func(b *testing.B) { procfsBaseline(b, proc, n/100) })
}

// BenchmarkScanRealProc scans the machine's real /proc with ZOMBIE_BENCH_REAL extra sleeping
// processes started for it (opt-in: a 10,000-process node costs ~10k forks and ~1 GiB).
func BenchmarkScanRealProc(b *testing.B) {
	extra, _ := strconv.Atoi(os.Getenv("ZOMBIE_BENCH_REAL"))
	if extra <= 0 {
		b.Skip("set ZOMBIE_BENCH_REAL=<processes> to start that many sleeping processes and scan the real /proc")
	}
	sleepers := exec.Command("sh", "-c", fmt.Sprintf(`i=0; while [ $i -lt %d ]; do sleep 3600 & i=$((i+1)); done; echo started; wait`, extra))
	sleepers.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := sleepers.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, sleepers.Start())
	b.Cleanup(func() {
		_ = syscall.Kill(-sleepers.Process.Pid, syscall.SIGKILL)
		_ = sleepers.Wait()
	})
	buf := make([]byte, 8)
	_, err = out.Read(buf) // "started"
	require.NoError(b, err)
	procs, err := procfs.AllProcs()
	require.NoError(b, err)
	src := newZombieSource(noAPIConfig(""), receivertest.NewNopSettings(metadata.Type))
	b.Run(fmt.Sprintf("cycle/processes=%d", len(procs)), func(b *testing.B) {
		reportCPU(b, func() {
			if _, err := src.Collect(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run(fmt.Sprintf("procfs-stat-every-process/processes=%d", len(procs)), func(b *testing.B) { procfsBaseline(b, "/proc", -1) })
}

// procfsBaseline scans with procfs's full Stat of every process: what the receiver's state check
// avoids. wantZombies < 0 accepts any number (processes come and go on a real /proc).
func procfsBaseline(b *testing.B, proc string, wantZombies int) {
	fs, err := procfs.NewFS(proc)
	require.NoError(b, err)
	reportCPU(b, func() {
		procs, err := fs.AllProcs()
		require.NoError(b, err)
		zombies := 0
		for _, p := range procs {
			st, err := p.Stat()
			if err != nil && wantZombies >= 0 {
				b.Fatal(err)
			}
			if st.State == "Z" {
				zombies++
			}
		}
		if wantZombies >= 0 && zombies != wantZombies {
			b.Fatal(zombies)
		}
	})
}
