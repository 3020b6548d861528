package zombiereceiver

import (
	"strings"
	"testing"

	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/assert"
)

const (
	testID  = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
	testID2 = "aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999"
	podUID  = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
	podUIDu = "6a5b4c3d_2e1f_4a0b_9c8d_7e6f5a4b3c2d" // the systemd driver's spelling
)

// cgroupShapes are the paths the supported runtimes and drivers give a container's processes
// (one per shape), and paths that name no container.
var cgroupShapes = []struct {
	name string
	path string
	want placement
}{
	{"containerd systemd (cgroup v2, burstable)", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDu + ".slice/cri-containerd-" + testID + ".scope", placement{testID, podUID}},
	{"containerd systemd (guaranteed)", "/kubepods.slice/kubepods-pod" + podUIDu + ".slice/cri-containerd-" + testID + ".scope", placement{testID, podUID}},
	{"containerd cgroupfs", "/kubepods/besteffort/pod" + podUID + "/" + testID, placement{testID, podUID}},
	{"containerd systemd on a cgroup v1 hierarchy (colon form)", "/system.slice/containerd.service/kubepods-burstable-pod" + podUIDu + ".slice:cri-containerd:" + testID, placement{testID, podUID}},
	{"CRI-O systemd", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + podUIDu + ".slice/crio-" + testID + ".scope", placement{testID, podUID}},
	{"CRI-O cgroupfs", "/kubepods/burstable/pod" + podUID + "/crio-" + testID, placement{testID, podUID}},
	{"CRI-O conmon is not the container", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + podUIDu + ".slice/crio-conmon-" + testID + ".scope", placement{podUID: podUID}},
	{"Docker (cri-dockerd) systemd", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDu + ".slice/docker-" + testID + ".scope", placement{testID, podUID}},
	{"Docker (cri-dockerd) cgroupfs", "/kubepods/pod" + podUID + "/" + testID, placement{testID, podUID}},
	{"Docker outside Kubernetes, cgroupfs", "/docker/" + testID, placement{containerID: testID}},
	{"Docker outside Kubernetes, systemd", "/system.slice/docker-" + testID + ".scope", placement{containerID: testID}},
	{"seen from another cgroup namespace", "/../../kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDu + ".slice/cri-containerd-" + testID + ".scope", placement{testID, podUID}},
	{"removed while the zombie waits", "/kubepods/burstable/pod" + podUID + "/" + testID + " (deleted)", placement{testID, podUID}},
	{"kind: a pod inside a node container", "/docker/" + testID2 + "/kubepods/burstable/pod" + podUID + "/" + testID, placement{testID, podUID}},
	{"the pod's own cgroup", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDu + ".slice", placement{podUID: podUID}},
	{"host: a service", "/system.slice/sshd.service", placement{}},
	{"host: a session", "/user.slice/user-0.slice/session-4.scope", placement{}},
	{"host: the root cgroup", "/", placement{}},
	{"host: kubepods parents only", "/kubepods.slice/kubepods-burstable.slice", placement{}},
	{"not 64 hex digits", "/system.slice/docker-" + strings.ToUpper(testID) + ".scope", placement{}},
}

func TestParseCgroupPath(t *testing.T) {
	for _, tt := range cgroupShapes {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseCgroupPath(tt.path))
		})
	}
}

func TestPlacementOfPrefersTheUnifiedHierarchy(t *testing.T) {
	v1 := func(id int, path string) procfs.Cgroup {
		return procfs.Cgroup{HierarchyID: id, Controllers: []string{"memory"}, Path: path}
	}
	v2 := func(path string) procfs.Cgroup { return procfs.Cgroup{HierarchyID: 0, Path: path} }
	inContainer := "/kubepods/besteffort/pod" + podUID + "/" + testID
	other := "/kubepods/besteffort/pod" + podUID + "/" + testID2

	assert.Equal(t, placement{testID, podUID}, placementOf([]procfs.Cgroup{v1(4, other), v2(inContainer)}), "v2 first")
	assert.Equal(t, placement{testID, podUID}, placementOf([]procfs.Cgroup{v1(4, "/"), v1(3, inContainer), v2("/")}), "hybrid: v1 names the container, v2 is unused")
	assert.Equal(t, placement{podUID: podUID}, placementOf([]procfs.Cgroup{v2("/kubepods/pod" + podUID)}), "pod only")
	assert.Equal(t, placement{}, placementOf([]procfs.Cgroup{v1(4, "/"), v2("/")}), "a v1 zombie: everything is the root")
	assert.Equal(t, placement{}, placementOf(nil))
}
