package nodereceiver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/receiver/nodereceiver/internal/metadata"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testNode(name string, age time.Duration, conds ...corev1.NodeCondition) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(testNow.Add(-age))},
		Status:     corev1.NodeStatus{Conditions: conds},
	}
}

// sampleNodes covers every rule: healthy, NotReady, pressured, NPD condition, no Ready, brand new.
func sampleNodes() []*corev1.Node {
	return []*corev1.Node{
		testNode("healthy", time.Hour, cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeMemoryPressure, corev1.ConditionFalse)),
		testNode("not-ready", time.Hour, cond(corev1.NodeReady, corev1.ConditionFalse), cond(corev1.NodeDiskPressure, corev1.ConditionFalse), cond("KernelDeadlock", corev1.ConditionUnknown)),
		testNode("pressured", time.Hour, cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeMemoryPressure, corev1.ConditionTrue), cond(corev1.NodePIDPressure, corev1.ConditionFalse)),
		testNode("npd-only", time.Hour, cond(corev1.NodeReady, corev1.ConditionTrue), cond("KernelDeadlock", corev1.ConditionTrue)),
		testNode("no-ready", time.Hour),
		testNode("brand-new", time.Minute, cond(corev1.NodeReady, corev1.ConditionFalse)),
	}
}

// cachedSource returns a source leading over an API that holds nodes, once its informer synced.
func cachedSource(t *testing.T, cfg *Config, nodes []*corev1.Node) *nodeSource {
	t.Helper()
	objs := make([]runtime.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = n
	}
	s := newNodeSource(cfg, receivertest.NewNopSettings(metadata.Type))
	s.now = func() time.Time { return testNow }
	s.client = fake.NewClientset(objs...)
	term := lead(t, s)
	<-term.ReadyC()
	return s
}

// lead runs s.Lead until the test ends and returns the term it reports to.
func lead(t *testing.T, s *nodeSource) *statereceivertest.Term {
	t.Helper()
	term := statereceivertest.NewTerm()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Lead(ctx, term) }()
	t.Cleanup(func() { cancel(); <-done })
	return term
}

func TestCollectGolden(t *testing.T) {
	tests := []struct {
		golden string
		tweak  func(*Config)
	}{
		{golden: "default.yaml", tweak: func(*Config) {}},
		{golden: "all_conditions.yaml", tweak: func(c *Config) { c.ReportAllConditions = true }},
		{golden: "new_nodes_included.yaml", tweak: func(c *Config) { c.IgnoreNewNodeDuration = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.tweak(cfg)
			md, err := cachedSource(t, cfg, sampleNodes()).Collect(context.Background())
			require.NoError(t, err)
			path := filepath.Join("testdata", "expected_metrics", tt.golden)
			if os.Getenv("UPDATE_GOLDEN") != "" {
				require.NoError(t, golden.WriteMetrics(t, path, md))
			}
			want, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			require.NoError(t, pmetrictest.CompareMetrics(want, md,
				pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreMetricDataPointsOrder()))
		})
	}
}

func TestCollectFailsClearlyBeforeSync(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.SyncTimeout = 10 * time.Millisecond
	s := newNodeSource(cfg, receivertest.NewNopSettings(metadata.Type))

	_, err := s.Collect(context.Background())
	require.ErrorContains(t, err, "nodes: informers are not running")

	client := fake.NewClientset()
	client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	s.client = client
	term := lead(t, s)
	require.Eventually(t, func() bool { return term.Reports()["nodes"] != nil }, 5*time.Second, 10*time.Millisecond)
	assert.ErrorContains(t, term.Reports()["nodes"], "connection refused", "the list error is reported to the term")
	_, err = s.Collect(context.Background())
	require.ErrorContains(t, err, "nodes not listed within 10ms")
	require.ErrorContains(t, err, "connection refused", "the cycle error says why")
}

func TestStripNodeKeepsOnlyWhatIsRead(t *testing.T) {
	n := testNode("a", time.Hour, corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Message: "kubelet is posting ready status", LastHeartbeatTime: metav1.Now()})
	n.Labels = map[string]string{"big": "label"}
	n.Status.Images = []corev1.ContainerImage{{Names: []string{"registry/image:tag"}}}
	got, err := stripNode(n)
	require.NoError(t, err)
	want := testNode("a", time.Hour, cond(corev1.NodeReady, corev1.ConditionTrue))
	require.Equal(t, want, got)

	tombstone := cache.DeletedFinalStateUnknown{Key: "a"}
	got, err = stripNode(tombstone)
	require.NoError(t, err)
	require.Equal(t, tombstone, got)
}
