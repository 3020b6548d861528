package nodereceiver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/receiver/nodereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
)

const waitFor = 30 * time.Second

var (
	notReady  = []k8stest.Condition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}, {Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse}}
	pressured = []k8stest.Condition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}, {Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue}}
)

func clusterConfig(c *k8stest.Cluster) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.IgnoreNewNodeDuration = 0
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: c.Kubeconfig, QPS: 50, Burst: 100}
	return cfg
}

func startReceiver(t *testing.T, cfg *Config, host component.Host) (receiver.Metrics, *consumertest.MetricsSink) {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	r, err := NewFactory().CreateMetrics(context.Background(), settings(), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r, sink
}

// settings names the receiver "node", as a collector config would.
func settings() receiver.Settings {
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	return set
}

// nodeSeries is the node.* series a Prometheus exporter fed every emission so far would hold:
// markers delete, so a series the state no longer has is gone at once.
func nodeSeries(sink *consumertest.MetricsSink) map[string]float64 {
	var state map[string]float64
	for _, md := range sink.AllMetrics() {
		state = series.Apply(state, md)
	}
	return series.WithPrefix(state, "node.")
}

// eventuallySeries waits until the exporter's view of the node series is exactly want.
func eventuallySeries(t *testing.T, sink *consumertest.MetricsSink, want map[string]float64) {
	t.Helper()
	if !assert.Eventually(t, func() bool { return assert.ObjectsAreEqual(want, nodeSeries(sink)) }, waitFor, 50*time.Millisecond) {
		t.Fatalf("node series never became\n%v\nlast emission:\n%v", want, nodeSeries(sink))
	}
}

func TestIntegrationNodesCreatedUpdatedDeleted(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	_, err := k8stest.CreateNode(ctx, c.Client, "node-a", k8stest.Healthy)
	require.NoError(t, err)
	nodeB, err := k8stest.CreateNode(ctx, c.Client, "node-b", notReady)
	require.NoError(t, err)
	_, err = k8stest.CreateNode(ctx, c.Client, "node-c", pressured)
	require.NoError(t, err)

	_, sink := startReceiver(t, clusterConfig(c), componenttest.NewNopHost())
	eventuallySeries(t, sink, map[string]float64{
		`node.healthy{node="node-a"}`:                                            1,
		`node.healthy{node="node-b"}`:                                            0,
		`node.healthy{node="node-c"}`:                                            0,
		`node.condition{condition="Ready",node="node-b",status="false"}`:         0,
		`node.condition{condition="MemoryPressure",node="node-c",status="true"}`: 1,
	})

	// node-b recovers, node-c is deleted, node-d joins.
	_, err = k8stest.SetConditions(ctx, c.Client, nodeB, k8stest.Healthy)
	require.NoError(t, err)
	require.NoError(t, c.Client.CoreV1().Nodes().Delete(ctx, "node-c", metav1.DeleteOptions{}))
	_, err = k8stest.CreateNode(ctx, c.Client, "node-d", notReady)
	require.NoError(t, err)
	eventuallySeries(t, sink, map[string]float64{
		`node.healthy{node="node-a"}`:                                    1,
		`node.healthy{node="node-b"}`:                                    1,
		`node.healthy{node="node-d"}`:                                    0,
		`node.condition{condition="Ready",node="node-d",status="false"}`: 0,
	})

	last := series.Of(sink.AllMetrics()[len(sink.AllMetrics())-1])
	assert.Equal(t, 1.0, last[`state_metric.collector.success{collector="node"}`])
	assert.Contains(t, last, `state_metric.collector.duration{collector="node"}`)
	assert.Contains(t, last, `state_metric.collector.last_collection_timestamp{collector="node"}`)
}

func TestIntegrationIgnoresNewNodes(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	_, err := k8stest.CreateNode(ctx, c.Client, "fresh", notReady)
	require.NoError(t, err)

	cfg := clusterConfig(c)
	cfg.IgnoreNewNodeDuration = time.Hour
	_, sink := startReceiver(t, cfg, componenttest.NewNopHost())
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= 3 }, waitFor, 50*time.Millisecond)
	all := sink.AllMetrics()
	last := series.Of(all[len(all)-1])
	assert.Empty(t, series.WithPrefix(last, "node."), "a node younger than ignore_new_node_duration is reported")
	assert.Equal(t, 1.0, last[`state_metric.collector.success{collector="node"}`])
}

func TestIntegrationLeaderGating(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	_, err := k8stest.CreateNode(ctx, c.Client, "node-a", k8stest.Healthy)
	require.NoError(t, err)
	want := map[string]float64{`node.healthy{node="node-a"}`: 1}

	electorID := component.MustNewIDWithName("k8s_leader_elector", "test")
	elector := &leadergatetest.FakeElector{}
	cfg := clusterConfig(c)
	cfg.K8sLeaderElector = &electorID

	// Stop before start: client-go reports "stopped leading" even if it never led.
	elector.LoseLeadership()
	r, sink := startReceiver(t, cfg, leadergatetest.NewHost(electorID, elector))
	require.Equal(t, 1, elector.Registrations())
	elector.LoseLeadership()

	followerEmitsNothing := func() {
		t.Helper()
		n := len(sink.AllMetrics())
		time.Sleep(500 * time.Millisecond) // five collection intervals
		require.Len(t, sink.AllMetrics(), n, "a follower emitted")
	}
	followerEmitsNothing()

	elector.BecomeLeader()
	eventuallySeries(t, sink, want)

	elector.LoseLeadership()
	// Markers for the term's series go out at once: the exporter's view is empty.
	require.Eventually(t, func() bool { return len(nodeSeries(sink)) == 0 }, waitFor, 20*time.Millisecond)
	followerEmitsNothing()

	elector.BecomeLeader()
	eventuallySeries(t, sink, want)

	// Callbacks after the receiver's Shutdown (the elector stops after receivers) are harmless.
	require.NoError(t, r.Shutdown(ctx))
	sink.Reset()
	elector.LoseLeadership()
	elector.BecomeLeader()
	elector.LoseLeadership()
	time.Sleep(300 * time.Millisecond) // three collection intervals: a stopped receiver must stay silent
	assert.Empty(t, sink.AllMetrics())
}

func TestIntegrationMissingElectorIsAStartError(t *testing.T) {
	c := k8stest.StartT(t)
	cfg := clusterConfig(c)
	missing := component.MustNewIDWithName("k8s_leader_elector", "missing")
	cfg.K8sLeaderElector = &missing
	r, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	err = r.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, `k8s_leader_elector: extension "k8s_leader_elector/missing" is not configured`)
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestIntegrationAPIServerDownAtStart(t *testing.T) {
	c := k8stest.StartT(t)
	_, err := k8stest.CreateNode(context.Background(), c.Client, "node-a", k8stest.Healthy)
	require.NoError(t, err)
	proxy := c.StartProxyT(t)
	proxy.Down()
	cfg := clusterConfig(c)
	cfg.KubeConfigPath = proxy.Kubeconfig

	host := &statusHost{Host: componenttest.NewNopHost()}
	_, sink := startReceiver(t, cfg, host)
	require.Eventually(t, func() bool { return strings.Contains(host.last(), "API server unreachable") }, waitFor, 50*time.Millisecond,
		"the status says the API server is unreachable; last status: %q", host.last())
	assert.Contains(t, host.last(), "connection refused")

	require.NoError(t, proxy.Up())
	eventuallySeries(t, sink, map[string]float64{`node.healthy{node="node-a"}`: 1})
	require.Eventually(t, func() bool { return host.last() == "StatusOK" }, waitFor, 50*time.Millisecond)
}

// statusHost records the component status events reported to it.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

// last is the newest status: its name, with the error text for an error.
func (h *statusHost) last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return ""
	}
	ev := h.events[len(h.events)-1]
	if ev.Err() != nil {
		return ev.Status().String() + ": " + ev.Err().Error()
	}
	return ev.Status().String()
}

func TestIntegrationKubeletMetricsAvailable(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	_, err := k8stest.CreateNode(ctx, c.Client, "node-a", k8stest.Healthy)
	require.NoError(t, err)
	_, err = k8stest.CreateNode(ctx, c.Client, "node-b", k8stest.Healthy)
	require.NoError(t, err)
	_, err = k8stest.CreateNode(ctx, c.Client, "node-down", notReady)
	require.NoError(t, err)

	cfg := clusterConfig(c)
	cfg.Metrics.NodeKubeletMetricsAvailable.Enabled = true
	_, sink := startReceiver(t, cfg, componenttest.NewNopHost())

	// No metrics-server: node health still flows; the cycle reports failure instead of crashing.
	eventuallySeries(t, sink, map[string]float64{
		`node.healthy{node="node-a"}`:                                       1,
		`node.healthy{node="node-b"}`:                                       1,
		`node.healthy{node="node-down"}`:                                    0,
		`node.condition{condition="Ready",node="node-down",status="false"}`: 0,
	})
	all := sink.AllMetrics()
	assert.Equal(t, 0.0, series.Of(all[len(all)-1])[`state_metric.collector.success{collector="node"}`])

	// metrics-server appears and reports node-a only: node-b is a "zombie"; NotReady nodes are not judged.
	require.NoError(t, c.ServeNodeMetrics(ctx))
	require.NoError(t, c.ReportNodeMetrics(ctx, "node-a"))
	eventuallySeries(t, sink, map[string]float64{
		`node.healthy{node="node-a"}`:                                       1,
		`node.healthy{node="node-b"}`:                                       1,
		`node.healthy{node="node-down"}`:                                    0,
		`node.condition{condition="Ready",node="node-down",status="false"}`: 0,
		`node.kubelet_metrics_available{node="node-a"}`:                     1,
		`node.kubelet_metrics_available{node="node-b"}`:                     0,
	})
	all = sink.AllMetrics()
	assert.Equal(t, 1.0, series.Of(all[len(all)-1])[`state_metric.collector.success{collector="node"}`])
}

func TestIntegrationForbiddenListIsNamedInTheCycleError(t *testing.T) {
	c := k8stest.StartT(t)
	kubeconfig, err := c.KubeconfigFor(t.TempDir(), "no-rights")
	require.NoError(t, err)
	cfg := clusterConfig(c)
	cfg.KubeConfigPath = kubeconfig
	cfg.SyncTimeout = 2 * time.Second

	s := newNodeSource(cfg, settings())
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	ctx, cancel := context.WithCancel(context.Background())
	led := make(chan struct{})
	go func() {
		defer close(led)
		s.Lead(ctx, statereceivertest.NewTerm())
	}()
	t.Cleanup(func() { cancel(); <-led })

	_, err = s.Collect(context.Background())
	require.ErrorContains(t, err, "nodes not listed within 2s")
	require.ErrorContains(t, err, `nodes is forbidden: User "no-rights" cannot list resource "nodes"`)
}
