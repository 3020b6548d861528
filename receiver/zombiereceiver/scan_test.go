package zombiereceiver

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scanTree(t *testing.T, parentCommand bool, procs ...fakeProc) ([]zombie, time.Time, error) {
	t.Helper()
	now := time.Now()
	root := t.TempDir()
	proc := writeProcTree(t, root, now.Add(-time.Hour).Unix(), procs...)
	s := &scanner{path: proc, parentCommand: parentCommand}
	zombies, skipped, err := s.scan(now)
	require.NoError(t, err)
	sort.Slice(zombies, func(i, j int) bool { return zombies[i].pid < zombies[j].pid })
	return zombies, now, skipped
}

func TestScanFindsZombiesAndPlacesThem(t *testing.T) {
	inContainer := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDu + ".slice/cri-containerd-" + testID + ".scope"
	zombies, _, skipped := scanTree(t, true,
		fakeProc{pid: 1, ppid: 0, comm: "systemd", state: 'S'},
		fakeProc{pid: 100, ppid: 1, comm: "app", state: 'S', cgroup: v2(inContainer)},
		fakeProc{pid: 101, ppid: 100, comm: "worker", state: 'Z', startTicks: 360000 - 3000, cgroup: v2(inContainer)}, // 30 s old
		fakeProc{pid: 102, ppid: 100, comm: "worker", state: 'Z', startTicks: 360000 - 500, cgroup: v2(inContainer)},
		fakeProc{pid: 200, ppid: 1, comm: "cron", state: 'S', cgroup: v2("/system.slice/cron.service")},
		fakeProc{pid: 201, ppid: 200, comm: "backup.sh", state: 'Z', startTicks: 100, cgroup: v2("/system.slice/cron.service")},
	)
	require.NoError(t, skipped)
	require.Len(t, zombies, 3)
	assert.Equal(t, 101, zombies[0].pid)
	assert.Equal(t, 100, zombies[0].ppid)
	assert.Equal(t, placement{testID, podUID}, zombies[0].placement)
	assert.Equal(t, "app", zombies[0].parentComm)
	assert.InDelta(t, 30, zombies[0].age.Seconds(), 1, "started 3000 ticks (100 Hz) before now, an hour after boot")
	assert.InDelta(t, 5, zombies[1].age.Seconds(), 1)
	assert.Equal(t, placement{}, zombies[2].placement, "a host zombie")
	assert.Equal(t, "cron", zombies[2].parentComm)
	assert.InDelta(t, 3599, zombies[2].age.Seconds(), 1)
}

func TestScanEveryCgroupShape(t *testing.T) {
	for _, tt := range cgroupShapes {
		t.Run(tt.name, func(t *testing.T) {
			zombies, _, skipped := scanTree(t, false,
				fakeProc{pid: 10, ppid: 1, comm: "init", state: 'S', cgroup: v2(tt.path)},
				fakeProc{pid: 11, ppid: 10, comm: "child", state: 'Z', cgroup: v2(tt.path)},
			)
			require.NoError(t, skipped)
			require.Len(t, zombies, 1)
			assert.Equal(t, tt.want, zombies[0].placement)
		})
	}
}

// cgroup v1 reports every zombie in the root cgroup; the parent that does not reap it tells where
// it ran.
func TestScanCgroupV1ZombieTakesItsParentsPlace(t *testing.T) {
	inContainer := "/kubepods/burstable/pod" + podUID + "/" + testID
	zombies, _, _ := scanTree(t, false,
		fakeProc{pid: 10, ppid: 1, comm: "init", state: 'S', cgroup: v1(inContainer)},
		fakeProc{pid: 11, ppid: 10, comm: "child", state: 'Z', cgroup: v1("/")},
		fakeProc{pid: 20, ppid: 1, comm: "sshd", state: 'S', cgroup: v1("/system.slice/ssh.service")},
		fakeProc{pid: 21, ppid: 20, comm: "child", state: 'Z', cgroup: v1("/")},
		fakeProc{pid: 31, ppid: 30, comm: "orphan", state: 'Z', cgroup: v1("/")}, // parent gone meanwhile
	)
	require.Len(t, zombies, 3)
	assert.Equal(t, placement{testID, podUID}, zombies[0].placement)
	assert.Equal(t, placement{}, zombies[1].placement)
	assert.Equal(t, placement{}, zombies[2].placement)
}

func TestScanIsNotFooledByNamesOrThreads(t *testing.T) {
	zombies, _, skipped := scanTree(t, false,
		fakeProc{pid: 10, ppid: 1, comm: "a) Z (b", state: 'S'},                     // a name that looks like a zombie's state
		fakeProc{pid: 11, ppid: 1, comm: "x) S (y", state: 'Z'},                     // a zombie whose name looks like a sleeper
		fakeProc{pid: 12, ppid: 1, comm: "java", state: 'Z', threads: 12},           // the leader exited, its threads run
		fakeProc{pid: 13, ppid: 1, comm: "kworker/u8:3-events_unbound", state: 'I'}, // kernel names exceed 15 bytes
		fakeProc{pid: 14, ppid: 1, comm: "defunct", state: 'Z'},
	)
	require.NoError(t, skipped)
	require.Len(t, zombies, 2)
	assert.Equal(t, 11, zombies[0].pid)
	assert.Equal(t, 14, zombies[1].pid)
}

func TestScanSkipsVanishedAndCountsUnreadable(t *testing.T) {
	now := time.Now()
	root := t.TempDir()
	proc := writeProcTree(t, root, now.Add(-time.Hour).Unix(),
		fakeProc{pid: 10, ppid: 1, comm: "zombie", state: 'Z'},
		fakeProc{pid: 11, ppid: 1, comm: "gone", state: 'Z'},
		fakeProc{pid: 12, ppid: 1, comm: "broken", state: 'S'},
	)
	require.NoError(t, os.Remove(filepath.Join(proc, "11", "stat"))) // exited between listing and reading
	require.NoError(t, os.Remove(filepath.Join(proc, "12", "stat")))
	require.NoError(t, os.Mkdir(filepath.Join(proc, "12", "stat"), 0o755)) // cannot be read
	s := &scanner{path: proc}
	zombies, skipped, err := s.scan(now)
	require.NoError(t, err)
	require.Len(t, zombies, 1)
	assert.Equal(t, 10, zombies[0].pid)
	require.Error(t, skipped)
	assert.Contains(t, skipped.Error(), "1 processes in "+proc+" could not be read")
	assert.Contains(t, skipped.Error(), "12/stat")
}

func TestScanWithoutProc(t *testing.T) {
	s := &scanner{path: filepath.Join(t.TempDir(), "proc")}
	_, _, err := s.scan(time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "proc")
}
