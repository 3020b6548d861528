package zombietest

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZombieIsReapedAtTheEnd(t *testing.T) {
	z, err := Start(Options{})
	require.NoError(t, err)
	p, err := procfs.NewProc(z.PID)
	require.NoError(t, err)
	st, err := p.Stat()
	require.NoError(t, err)
	assert.Equal(t, "Z", st.State)
	assert.Equal(t, z.ParentPID, st.PPID)
	parent, err := procfs.NewProc(z.ParentPID)
	require.NoError(t, err)
	comm, err := parent.Comm()
	require.NoError(t, err)
	assert.Equal(t, "sleep", comm)

	require.NoError(t, z.Reap())
	_, err = os.Stat("/proc/" + strconv.Itoa(z.PID))
	assert.ErrorIs(t, err, os.ErrNotExist, "reaped")
	require.NoError(t, z.Reap(), "idempotent")
}

func TestZombieInCgroupV2(t *testing.T) {
	const path = "otelcoltest.slice/otelcoltest-zombie.scope"
	z := StartT(t, Options{Cgroup2: path})
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(z.PID) + "/cgroup")
	require.NoError(t, err)
	assert.Contains(t, string(cg), "0::/"+path+"\n", "a zombie keeps its cgroup v2 path")
	require.NoError(t, z.Reap())
	mount, err := cgroupMount("cgroup2", "")
	require.NoError(t, err)
	assert.NoDirExists(t, mount+"/otelcoltest.slice", "the cgroups made are removed")
}

func TestZombieInCgroupV1(t *testing.T) {
	const path = "otelcoltest/zombie"
	z := StartT(t, Options{Cgroup1: path})
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(z.ParentPID) + "/cgroup")
	require.NoError(t, err)
	assert.Contains(t, string(cg), ":memory:/"+path+"\n", "the parent is in the v1 cgroup")
	zcg, err := os.ReadFile("/proc/" + strconv.Itoa(z.PID) + "/cgroup")
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(zcg)), "\n") {
		if strings.Contains(line, ":memory:") {
			assert.Equal(t, ":memory:/", line[strings.Index(line, ":memory:"):], "cgroup v1 shows a zombie in the root cgroup")
		}
	}
}
