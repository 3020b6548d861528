package zombiereceiver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/receiver/zombiereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
	"github.com/labring/otelcol-sealos/test/zombietest"
)

const waitFor = 30 * time.Second

func apiConfig(c *k8stest.Cluster, node, hostRoot string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.NodeName = node
	cfg.HostRoot = hostRoot
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: c.Kubeconfig, QPS: 50, Burst: 100}
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	return cfg
}

func startReceiver(t *testing.T, cfg *Config, base component.Host) (*consumertest.MetricsSink, *statereceivertest.Host) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	return statereceivertest.StartReceiver(t, NewFactory(), cfg, base)
}

// waitEmission waits for an emission, at index from or later, that satisfies ok.
func waitEmission(t *testing.T, sink *consumertest.MetricsSink, from int, ok func(pmetric.Metrics) bool) (pmetric.Metrics, int) {
	t.Helper()
	return statereceivertest.WaitBatch(t, sink, from, waitFor, ok)
}

func succeeded(md pmetric.Metrics) bool {
	return series.Of(md)[`state_metric.collector.success{collector="zombie"}`] == 1
}

// The synthetic node's containers belong to pods in a real API server; pods of another node with
// the same container IDs must not match (the informer lists only this node's pods).
func TestIntegrationPodsGolden(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	pod, err := k8stest.CreatePodOnNode(ctx, c.Client, "shop", "cart-7d9f", "test-node",
		map[string]string{"cart": "containerd://" + testID, "envoy": "containerd://" + testID2})
	require.NoError(t, err)
	_, err = k8stest.CreatePodOnNode(ctx, c.Client, "shop", "elsewhere", "other-node",
		map[string]string{"app": "containerd://cd" + testID[2:]})
	require.NoError(t, err)

	// The tree's cgroups carry the pod UID the API server gave.
	root := t.TempDir()
	uid := string(pod.UID)
	now := time.Now()
	hour := uint64(360000)
	podSlice := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + underscored(uid) + ".slice/"
	writeProcTree(t, root, now.Add(-time.Hour).Unix(),
		fakeProc{pid: 100, ppid: 1, comm: "cart", state: 'S', cgroup: v2(podSlice + "cri-containerd-" + testID + ".scope")},
		fakeProc{pid: 101, ppid: 100, comm: "sh", state: 'Z', startTicks: hour - 12000, cgroup: v2(podSlice + "cri-containerd-" + testID + ".scope")},
		fakeProc{pid: 102, ppid: 100, comm: "sh", state: 'Z', startTicks: hour - 100, cgroup: v2(podSlice + "cri-containerd-" + testID + ".scope")},
		fakeProc{pid: 200, ppid: 1, comm: "envoy", state: 'S', cgroup: v1("/kubepods/burstable/pod" + uid + "/" + testID2)},
		fakeProc{pid: 201, ppid: 200, comm: "hc", state: 'Z', startTicks: hour - 3000, cgroup: v1("/")},
		fakeProc{pid: 300, ppid: 1, comm: "pause", state: 'S', cgroup: v2(podSlice + "cri-containerd-ee" + testID[2:] + ".scope")},
		fakeProc{pid: 301, ppid: 300, comm: "x", state: 'Z', startTicks: hour - 200, cgroup: v2(podSlice + "cri-containerd-ee" + testID[2:] + ".scope")},
		fakeProc{pid: 400, ppid: 1, comm: "legacy", state: 'S', cgroup: v2("/system.slice/docker-cd" + testID[2:] + ".scope")},
		fakeProc{pid: 401, ppid: 400, comm: "job", state: 'Z', startTicks: hour - 60000, cgroup: v2("/system.slice/docker-cd" + testID[2:] + ".scope")},
		fakeProc{pid: 500, ppid: 1, comm: "cron", state: 'S', cgroup: v2("/system.slice/cron.service")},
		fakeProc{pid: 501, ppid: 500, comm: "backup", state: 'Z', startTicks: hour - 1000, cgroup: v2("/system.slice/cron.service")},
	)
	sink, host := startReceiver(t, apiConfig(c, "test-node", root), componenttest.NewNopHost())
	md, _ := waitEmission(t, sink, 0, succeeded)
	assert.Equal(t, componentstatus.StatusOK, host.LastEvent().Status())

	got := series.WithPrefix(series.Of(md), "zombie.processes_total")
	assert.Equal(t, map[string]float64{
		`zombie.processes_total{container="cart",namespace="shop",node="test-node",pod="cart-7d9f"}`:  2,
		`zombie.processes_total{container="envoy",namespace="shop",node="test-node",pod="cart-7d9f"}`: 1, // cgroup v1, via its parent
		`zombie.processes_total{namespace="shop",node="test-node",pod="cart-7d9f"}`:                   1, // the sandbox: not in the status
		`zombie.processes_total{container_id="cd` + testID[2:] + `",node="test-node"}`:                1, // another node's pod lists it
		`zombie.processes_total{container="host",node="test-node"}`:                                   1,
	}, got)
	// The oldest zombie started 120 s before now (boot time in whole seconds: up to 1 s more); the
	// cycle ran some time after now, on a loaded machine seconds.
	age := series.Of(md)[`zombie.oldest{container="cart",namespace="shop",node="test-node",pod="cart-7d9f"}`]
	assert.GreaterOrEqual(t, age, 120.0)
	assert.LessOrEqual(t, age, 121+time.Since(now).Seconds())

	compareGolden(t, "with_pods", liveOwn(md))
}

// liveOwn is the receiver's own metrics in md without staleness markers: no self-metrics, and
// nothing a failed first cycle (pods not listed in time) leaves to mark.
func liveOwn(md pmetric.Metrics) pmetric.Metrics {
	out := pmetric.NewMetrics()
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			if sm.Scope().Name() != metadata.ScopeName {
				continue
			}
			outSM := out.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
			sm.CopyTo(outSM)
			outSM.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				m.Gauge().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return dp.Flags().NoRecordedValue() })
				return m.Gauge().DataPoints().Len() == 0
			})
		}
	}
	return out
}

func underscored(uid string) string {
	b := []byte(uid)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// Pods forbidden at first (no RBAC yet): cycles fail with the reason in the status and zombies
// are still counted, by container ID; once list and watch are granted, they are attributed.
func TestIntegrationPodsForbiddenThenGranted(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	_, err := k8stest.CreatePodOnNode(ctx, c.Client, "shop", "cart-7d9f", "test-node", map[string]string{"cart": "containerd://" + testID})
	require.NoError(t, err)
	kubeconfig, err := c.KubeconfigFor(t.TempDir(), "zombie-reader")
	require.NoError(t, err)
	cfg := apiConfig(c, "test-node", sampleTreeRoot(t))
	cfg.KubeConfigPath = kubeconfig
	cfg.SyncTimeout = 200 * time.Millisecond
	sink, host := startReceiver(t, cfg, componenttest.NewNopHost())

	failed, i := waitEmission(t, sink, 0, func(md pmetric.Metrics) bool {
		_, ok := series.Of(md)[`state_metric.collector.success{collector="zombie"}`]
		return ok && !succeeded(md)
	})
	assert.Equal(t, 3.0, series.Of(failed)[`zombie.processes_total{container_id="`+testID+`",node="test-node"}`],
		"without the pod list, zombies are still counted, by container ID")
	ev := host.LastEvent()
	require.NotNil(t, ev)
	assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
	assert.Contains(t, ev.Err().Error(), "pods: access forbidden")

	rbac := c.Client.RbacV1()
	_, err = rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "zombie-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list", "watch"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "zombie-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "zombie-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "zombie-reader"}}}, metav1.CreateOptions{})
	require.NoError(t, err)

	good, _ := waitEmission(t, sink, i+1, succeeded)
	got := series.Of(good)
	assert.Equal(t, 3.0, got[`zombie.processes_total{container="cart",namespace="shop",node="test-node",pod="cart-7d9f"}`])
	assert.NotContains(t, got, `zombie.processes_total{container_id="`+testID+`",node="test-node"}`)
	assert.Contains(t, series.Stale(good), `zombie.processes_total{container_id="`+testID+`",node="test-node"}`,
		"the container-ID series of the failed cycles end with a staleness marker")
	require.Eventually(t, func() bool { return host.LastEvent().Status() == componentstatus.StatusOK }, waitFor, 10*time.Millisecond)
}

// Real zombies in real cgroups shaped like containerd's (systemd driver, cgroup v2) and Docker's
// (cgroupfs driver, cgroup v1, found through the parent), their pods in the API server, the
// receiver reading the real /proc. Needs root and writable cgroup mounts; skipped otherwise.
func TestIntegrationRealZombies(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	id1 := randomID(t)
	id2 := randomID(t)
	pod, err := k8stest.CreatePodOnNode(ctx, c.Client, "batch", "reaper-less", "real-node",
		map[string]string{"main": "containerd://" + id1, "legacy": "docker://" + id2})
	require.NoError(t, err)
	uid := string(pod.UID)
	inV2 := zombietest.StartT(t, zombietest.Options{Cgroup2: "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + underscored(uid) + ".slice/cri-containerd-" + id1 + ".scope"})
	inV1 := zombietest.StartT(t, zombietest.Options{Cgroup1: "kubepods/besteffort/pod" + uid + "/" + id2})
	onHost := zombietest.StartT(t, zombietest.Options{})

	// The scan itself: each zombie found, with its parent.
	zombies, _, err := (&scanner{path: "/proc", parentCommand: true}).scan(time.Now())
	require.NoError(t, err)
	found := map[int]zombie{}
	for _, z := range zombies {
		found[z.pid] = z
	}
	for _, z := range []*zombietest.Zombie{inV2, inV1, onHost} {
		require.Contains(t, found, z.PID, "zombie %d", z.PID)
		assert.Equal(t, z.ParentPID, found[z.PID].ppid)
		assert.Equal(t, "sleep", found[z.PID].parentComm)
		assert.Less(t, found[z.PID].age, time.Minute)
	}
	assert.Equal(t, placement{id1, uid}, found[inV2.PID].placement)
	assert.Equal(t, placement{id2, uid}, found[inV1.PID].placement)

	cfg := apiConfig(c, "real-node", "")
	cfg.ParentCommand = true
	sink, _ := startReceiver(t, cfg, componenttest.NewNopHost())
	md, _ := waitEmission(t, sink, 0, succeeded)
	got := series.Of(md)
	assert.Equal(t, 1.0, got[`zombie.processes_total{container="main",namespace="batch",node="real-node",parent_command="sleep",pod="reaper-less"}`])
	assert.Equal(t, 1.0, got[`zombie.processes_total{container="legacy",namespace="batch",node="real-node",parent_command="sleep",pod="reaper-less"}`])
	assert.GreaterOrEqual(t, got[`zombie.processes_total{container="host",node="real-node",parent_command="sleep"}`], 1.0,
		"the host zombie (other tests may add their own)")

	// Reaped, they are gone from the next cycle.
	require.NoError(t, inV2.Reap())
	require.NoError(t, inV1.Reap())
	waitEmission(t, sink, 0, func(md pmetric.Metrics) bool {
		live := series.Of(md)
		_, main := live[`zombie.processes_total{container="main",namespace="batch",node="real-node",parent_command="sleep",pod="reaper-less"}`]
		return succeeded(md) && !main
	})
}

// Without API access (auth_type none) a real zombie is labelled with its container ID.
func TestRealZombieWithoutAPI(t *testing.T) {
	id := randomID(t)
	z := zombietest.StartT(t, zombietest.Options{Cgroup2: "system.slice/docker-" + id + ".scope"})
	cfg := noAPIConfig("")
	md, err := collectOnce(t, cfg)
	require.NoError(t, err)
	assert.Equal(t, 1.0, series.Of(md)[`zombie.processes_total{container_id="`+id+`",node="test-node"}`], "zombie %d", z.PID)
}

// A DaemonSet runs without an elector, but an elector works too: nothing before leading.
func TestReceiverWithElector(t *testing.T) {
	electorID := component.MustNewIDWithName("k8s_leader_elector", "zombie")
	elector := &leadergatetest.FakeElector{}
	cfg := noAPIConfig(sampleTreeRoot(t))
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.K8sLeaderElector = &electorID
	sink, _ := startReceiver(t, cfg, leadergatetest.NewHost(electorID, elector))
	time.Sleep(300 * time.Millisecond) // three intervals without the lease
	assert.Empty(t, sink.AllMetrics(), "a follower emits nothing")
	elector.BecomeLeader()
	md, _ := waitEmission(t, sink, 0, succeeded)
	assert.Equal(t, 2.0, series.Of(md)[`zombie.processes_total{container_id="host",node="test-node"}`])
}

// randomID is a container ID of 64 hex digits, different in every test.
func randomID(t *testing.T) string {
	t.Helper()
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}
