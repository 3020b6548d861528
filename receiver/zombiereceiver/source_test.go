package zombiereceiver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/receiver/zombiereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/series"
)

func statusPod(ns, name, uid string, containers map[string]string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}}
	for c, id := range containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{Name: c, ContainerID: id})
	}
	return pod
}

func TestGroupOf(t *testing.T) {
	pod := statusPod("shop", "cart-7d9f", podUID, map[string]string{"cart": "containerd://" + testID})
	pod.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", ContainerID: "cri-o://" + testID2}}
	idx := newPodIndex([]any{stripPodT(t, pod)})
	otherPod := "11111111-2222-3333-4444-555555555555"

	for _, tt := range []struct {
		name       string
		placement  placement
		withAPI    group
		withoutAPI group
	}{
		{"a pod's container", placement{testID, podUID}, group{namespace: "shop", pod: "cart-7d9f", container: "cart"}, group{containerID: testID}},
		{"an init container", placement{testID2, podUID}, group{namespace: "shop", pod: "cart-7d9f", container: "migrate"}, group{containerID: testID2}},
		{"a container not in the pod's status yet", placement{"ab" + testID[2:], podUID}, group{namespace: "shop", pod: "cart-7d9f"}, group{containerID: "ab" + testID[2:]}},
		{"the pod's own cgroup", placement{podUID: podUID}, group{namespace: "shop", pod: "cart-7d9f"}, group{containerID: unknownLabel}},
		{"a container of no pod on the node", placement{containerID: "cd" + testID[2:]}, group{containerID: "cd" + testID[2:]}, group{containerID: "cd" + testID[2:]}},
		{"a pod the node does not have", placement{podUID: otherPod}, group{containerID: unknownLabel}, group{containerID: unknownLabel}},
		{"the host", placement{}, group{container: hostLabel}, group{containerID: hostLabel}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.withAPI, groupOf(zombie{placement: tt.placement}, &idx))
			assert.Equal(t, tt.withoutAPI, groupOf(zombie{placement: tt.placement}, nil))
		})
	}
}

func stripPodT(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	obj, err := stripPod(pod)
	require.NoError(t, err)
	return obj.(*corev1.Pod)
}

func TestStripPodKeepsOnlyWhatAttributionNeeds(t *testing.T) {
	pod := statusPod("shop", "cart", podUID, map[string]string{"cart": "containerd://" + testID})
	pod.Labels = map[string]string{"app": "cart"}
	pod.Spec.Containers = []corev1.Container{{Name: "cart", Image: "cart:1", Env: []corev1.EnvVar{{Name: "A", Value: "b"}}}}
	pod.Status.ContainerStatuses[0].Image = "cart:1"
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	got := stripPodT(t, pod)
	assert.Equal(t, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart", UID: podUID},
		Status: corev1.PodStatus{
			ContainerStatuses:          []corev1.ContainerStatus{{Name: "cart", ContainerID: "containerd://" + testID}},
			InitContainerStatuses:      []corev1.ContainerStatus{},
			EphemeralContainerStatuses: []corev1.ContainerStatus{},
		},
	}, got)
}

// sampleTree is a node with zombies in two containers of a pod, one in a container no pod lists,
// one in a cgroup v1 container found through its parent, and two on the host.
func sampleTree(t *testing.T) string {
	t.Helper()
	now := time.Now()
	cart := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDu + ".slice/cri-containerd-" + testID + ".scope"
	sidecar := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDu + ".slice/cri-containerd-" + testID2 + ".scope"
	stray := "/system.slice/docker-cd" + testID[2:] + ".scope"
	v1Container := "/kubepods/besteffort/pod" + podUID + "/" + testID2
	hour := uint64(360000)
	return writeProcTree(t, t.TempDir(), now.Add(-time.Hour).Unix(),
		fakeProc{pid: 1, ppid: 0, comm: "systemd", state: 'S', cgroup: v2("/init.scope")},
		fakeProc{pid: 100, ppid: 1, comm: "cart", state: 'S', cgroup: v2(cart)},
		fakeProc{pid: 101, ppid: 100, comm: "sh", state: 'Z', startTicks: hour - 12000, cgroup: v2(cart)},
		fakeProc{pid: 102, ppid: 100, comm: "sh", state: 'Z', startTicks: hour - 6000, cgroup: v2(cart)},
		fakeProc{pid: 103, ppid: 100, comm: "sh", state: 'Z', startTicks: hour - 100, cgroup: v2(cart)},
		fakeProc{pid: 200, ppid: 1, comm: "envoy", state: 'S', cgroup: v2(sidecar)},
		fakeProc{pid: 201, ppid: 200, comm: "hc", state: 'Z', startTicks: hour - 3000, cgroup: v2(sidecar)},
		fakeProc{pid: 300, ppid: 1, comm: "legacy", state: 'S', cgroup: v2(stray)},
		fakeProc{pid: 301, ppid: 300, comm: "job", state: 'Z', startTicks: hour - 60000, cgroup: v2(stray)},
		fakeProc{pid: 400, ppid: 1, comm: "cron", state: 'S', cgroup: v2("/system.slice/cron.service")},
		fakeProc{pid: 401, ppid: 400, comm: "backup", state: 'Z', startTicks: hour - 1000, cgroup: v2("/system.slice/cron.service")},
		fakeProc{pid: 402, ppid: 400, comm: "backup", state: 'Z', startTicks: hour - 2000, cgroup: v2("/system.slice/cron.service")},
		fakeProc{pid: 500, ppid: 1, comm: "old-init", state: 'S', cgroup: v1(v1Container)},
		fakeProc{pid: 501, ppid: 500, comm: "task", state: 'Z', startTicks: hour - 500, cgroup: v1("/")},
	)
}

// sampleTreeRoot is the host root whose proc is sampleTree's.
func sampleTreeRoot(t *testing.T) string {
	return filepath.Dir(sampleTree(t))
}

func noAPIConfig(root string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.NodeName = "test-node"
	cfg.AuthType = k8sconfig.AuthTypeNone
	cfg.HostRoot = root
	return cfg
}

func collectOnce(t *testing.T, cfg *Config) (pmetric.Metrics, error) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	src := newZombieSource(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, src.Start(context.Background(), nil))
	return src.Collect(context.Background())
}

func compareGolden(t *testing.T, name string, md pmetric.Metrics) {
	t.Helper()
	path := filepath.Join("testdata", "expected_metrics", name+".yaml")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	// The ages depend on when the test runs: they are checked separately.
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(),
		pmetrictest.IgnoreMetricValues("zombie.oldest"),
		pmetrictest.IgnoreMetricsOrder(), pmetrictest.IgnoreMetricDataPointsOrder()))
}

func TestCollectWithoutAPIGolden(t *testing.T) {
	md, err := collectOnce(t, noAPIConfig(sampleTreeRoot(t)))
	require.NoError(t, err)
	compareGolden(t, "without_api", md)
	got := series.Of(md)
	assert.Equal(t, map[string]float64{
		`zombie.processes_total{container_id="` + testID + `",node="test-node"}`:       3,
		`zombie.processes_total{container_id="` + testID2 + `",node="test-node"}`:      2,
		`zombie.processes_total{container_id="cd` + testID[2:] + `",node="test-node"}`: 1,
		`zombie.processes_total{container_id="host",node="test-node"}`:                 2,
	}, series.WithPrefix(got, "zombie.processes_total"))
	assert.InDelta(t, 120, got[`zombie.oldest{container_id="`+testID+`",node="test-node"}`], 1)
	assert.InDelta(t, 600, got[`zombie.oldest{container_id="cd`+testID[2:]+`",node="test-node"}`], 1)
	assert.InDelta(t, 20, got[`zombie.oldest{container_id="host",node="test-node"}`], 1)
}

func TestCollectParentCommand(t *testing.T) {
	cfg := noAPIConfig(sampleTreeRoot(t))
	cfg.ParentCommand = true
	md, err := collectOnce(t, cfg)
	require.NoError(t, err)
	got := series.WithPrefix(series.Of(md), "zombie.processes_total")
	assert.Equal(t, 2.0, got[`zombie.processes_total{container_id="host",node="test-node",parent_command="cron"}`])
	assert.Equal(t, 1.0, got[`zombie.processes_total{container_id="`+testID2+`",node="test-node",parent_command="envoy"}`])
	assert.Equal(t, 1.0, got[`zombie.processes_total{container_id="`+testID2+`",node="test-node",parent_command="old-init"}`])
	assert.Len(t, got, 5)
}

func TestCollectNodeWithoutZombies(t *testing.T) {
	root := t.TempDir()
	writeProcTree(t, root, time.Now().Add(-time.Hour).Unix(), fakeProc{pid: 1, comm: "systemd", state: 'S'})
	md, err := collectOnce(t, noAPIConfig(root))
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{`zombie.processes_total{container_id="host",node="test-node"}`: 0}, series.Of(md),
		"a healthy node still has its 0, and no age")
}

func TestCollectFailsWithoutProc(t *testing.T) {
	md, err := collectOnce(t, noAPIConfig(t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/proc")
	assert.Empty(t, series.Of(md), "an unreadable proc is a failed cycle without numbers")
}
