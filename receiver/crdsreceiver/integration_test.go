package crdsreceiver

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
	"github.com/labring/otelcol-sealos/receiver/crdsreceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
)

const waitFor = 30 * time.Second

func clusterConfig(kubeconfig string, crds ...ResourceConfig) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: kubeconfig, QPS: 50, Burst: 100}
	cfg.CRDs = crds
	return cfg
}

// statusHost records the component status the receiver reports.
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

func (h *statusHost) last() *componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return nil
	}
	return h.events[len(h.events)-1]
}

type started struct {
	sink *consumertest.MetricsSink
	host *statusHost
	logs *observer.ObservedLogs
}

func startReceiver(t *testing.T, cfg *Config) started {
	t.Helper()
	return startReceiverOn(t, cfg, componenttest.NewNopHost())
}

func settingsForBench() receiver.Settings {
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	return set
}

func startReceiverOn(t *testing.T, cfg *Config, base component.Host) started {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.Logger = zap.New(core)
	sink := new(consumertest.MetricsSink)
	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	host := &statusHost{Host: base}
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return started{sink: sink, host: host, logs: logs}
}

// latest is the newest emission, or an empty one.
func latest(sink *consumertest.MetricsSink) pmetric.Metrics {
	all := sink.AllMetrics()
	if len(all) == 0 {
		return pmetric.NewMetrics()
	}
	return all[len(all)-1]
}

// crdSeries is what an exporter fed every emission holds (markers delete), without the
// framework's state_metric.* series.
func crdSeries(sink *consumertest.MetricsSink) map[string]float64 {
	var out map[string]float64 // what a Prometheus exporter fed every emission holds
	for _, md := range sink.AllMetrics() {
		out = series.Apply(out, md)
	}
	for k := range out {
		if strings.HasPrefix(k, "state_metric.") {
			delete(out, k)
		}
	}
	return out
}

// eventuallyContains waits until the newest emission has exactly want among the series whose
// name starts with prefix.
func eventuallyExactly(t *testing.T, sink *consumertest.MetricsSink, prefix string, want map[string]float64) {
	t.Helper()
	if !assert.Eventually(t, func() bool { return assert.ObjectsAreEqual(want, series.WithPrefix(crdSeries(sink), prefix)) }, waitFor, 50*time.Millisecond) {
		t.Fatalf("series %s* never became\n%v\nlast emission:\n%v", prefix, want, series.WithPrefix(crdSeries(sink), prefix))
	}
}

func TestIntegrationGoldenEveryMetricType(t *testing.T) {
	c := k8stest.StartT(t)
	installCRDs(t, c, "cluster.yaml", "backup.yaml", "storageprovider.yaml")
	createNamespaces(t, c, "team-a", "team-b")
	createObject(t, c, clustersGVR, cluster("db-1", "team-a", "Running", 3, "True"))
	createObject(t, c, clustersGVR, cluster("db-2", "team-b", "Creating", 1, "False"))
	createObject(t, c, clustersGVR, cluster("db-3", "team-b", "Running", 2, "True"))
	createObject(t, c, backupsGVR, backup("bk-1", "team-a", "Completed"))
	createObject(t, c, backupsGVR, backup("bk-2", "team-a", "Completed"))
	createObject(t, c, backupsGVR, backup("bk-3", "team-b", "Failed"))
	createObject(t, c, storageProvidersGVR, storageProvider("s3", "Ready", "75%"))

	r := startReceiver(t, clusterConfig(c.Kubeconfig, clusterResource(), backupResource(), storageProviderResource()))
	eventuallyExactly(t, r.sink, "crds.objects", map[string]float64{
		`crds.objects{resource="kubeblocks-cluster"}`: 3,
		`crds.objects{resource="kubeblocks-backup"}`:  3,
		`crds.objects{resource="storage-provider"}`:   1,
	})
	md := latest(r.sink)

	byType := map[string][]MetricConfig{}
	for _, rc := range []ResourceConfig{clusterResource(), backupResource(), storageProviderResource()} {
		for _, m := range rc.Metrics {
			byType[string(m.Type)] = append(byType[string(m.Type)], m)
		}
	}
	byType["self"] = []MetricConfig{{Name: "crds.objects"}, {Name: "crds.resource_up"}, {Name: "crds.value_errors"}}
	require.Len(t, byType, len(metricTypes)+1, "every metric type has a golden file")
	for typ, metrics := range byType {
		t.Run(typ, func(t *testing.T) {
			names := make([]string, len(metrics))
			for i, m := range metrics {
				names[i] = m.Name
			}
			got := onlyMetrics(md, names)
			path := filepath.Join("testdata", "expected_metrics", typ+".yaml")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				require.NoError(t, golden.WriteMetrics(t, path, got))
			}
			want, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			require.NoError(t, pmetrictest.CompareMetrics(want, got, pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(),
				pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreMetricsOrder(), pmetrictest.IgnoreResourceMetricsOrder()))
		})
	}
}

// onlyMetrics copies the metrics of md named in names, keeping resource and scope.
func onlyMetrics(md pmetric.Metrics, names []string) pmetric.Metrics {
	out := pmetric.NewMetrics()
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			var keep []pmetric.Metric
			for k := 0; k < ms.Len(); k++ {
				if slices.Contains(names, ms.At(k).Name()) {
					keep = append(keep, ms.At(k))
				}
			}
			if len(keep) == 0 {
				continue
			}
			rm := out.ResourceMetrics().AppendEmpty()
			rms.At(i).Resource().CopyTo(rm.Resource())
			sm := rm.ScopeMetrics().AppendEmpty()
			sms.At(j).Scope().CopyTo(sm.Scope())
			for _, m := range keep {
				m.CopyTo(sm.Metrics().AppendEmpty())
			}
		}
	}
	return out
}

func TestIntegrationCreateUpdateDeleteAndCounts(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	installCRDs(t, c, "cluster.yaml")
	createNamespaces(t, c, "ns")
	createObject(t, c, clustersGVR, cluster("a", "ns", "Running", 1, "True"))
	b := createObject(t, c, clustersGVR, cluster("b", "ns", "Creating", 1, "False"))

	rc := ResourceConfig{Name: "clusters", GVR: gvrConfig(clustersGVR), CommonLabels: map[string]string{"name": "metadata.name"},
		Metrics: []MetricConfig{
			{Type: TypeCount, Name: "phase_count", Path: "status.phase"},
			{Type: TypeStringState, Name: "status", Path: "status.phase"},
			{Type: TypeGauge, Name: "replicas", Path: "spec.replicas"},
		}}
	r := startReceiver(t, clusterConfig(c.Kubeconfig, rc))
	eventuallyExactly(t, r.sink, "", map[string]float64{
		`phase_count{value="Running"}`:                                1,
		`phase_count{value="Creating"}`:                               1,
		`status{name="a",state="Running"}`:                            1,
		`status{name="b",state="Creating"}`:                           1,
		`replicas{name="a"}`:                                          1,
		`replicas{name="b"}`:                                          1,
		`crds.objects{resource="clusters"}`:                           2,
		`crds.resource_up{resource="clusters"}`:                       1,
		`crds.value_errors{metric="phase_count",resource="clusters"}`: 0,
		`crds.value_errors{metric="status",resource="clusters"}`:      0,
		`crds.value_errors{metric="replicas",resource="clusters"}`:    0,
	})

	// b becomes Running with 3 replicas, c appears without a status, a is deleted.
	b.Object["status"].(map[string]any)["phase"] = "Running"
	b.Object["spec"].(map[string]any)["replicas"] = int64(3)
	_, err := c.Dynamic.Resource(clustersGVR).Namespace("ns").Update(ctx, b, metav1.UpdateOptions{})
	require.NoError(t, err)
	noStatus := cluster("c", "ns", "", 2, "")
	delete(noStatus, "status")
	createObject(t, c, clustersGVR, noStatus)
	require.NoError(t, c.Dynamic.Resource(clustersGVR).Namespace("ns").Delete(ctx, "a", metav1.DeleteOptions{}))
	eventuallyExactly(t, r.sink, "", map[string]float64{
		`phase_count{value="Running"}`:          1,
		`status{name="b",state="Running"}`:      1,
		`replicas{name="b"}`:                    3,
		`replicas{name="c"}`:                    2,
		`crds.objects{resource="clusters"}`:     2,
		`crds.resource_up{resource="clusters"}`: 1,
		// c has no status.phase: no status series, one value error; count ignores it (not an error).
		`crds.value_errors{metric="phase_count",resource="clusters"}`: 0,
		`crds.value_errors{metric="status",resource="clusters"}`:      1,
		`crds.value_errors{metric="replicas",resource="clusters"}`:    0,
	})

	// Deleting the last Running one removes its count series.
	require.NoError(t, c.Dynamic.Resource(clustersGVR).Namespace("ns").Delete(ctx, "b", metav1.DeleteOptions{}))
	eventuallyExactly(t, r.sink, "phase_count", map[string]float64{})
}

func TestIntegrationNamespacesFilter(t *testing.T) {
	c := k8stest.StartT(t)
	installCRDs(t, c, "cluster.yaml")
	createNamespaces(t, c, "a", "b", "c")
	for _, ns := range []string{"a", "b", "c"} {
		createObject(t, c, clustersGVR, cluster("db", ns, "Running", 1, "True"))
	}
	rc := ResourceConfig{Name: "clusters", GVR: gvrConfig(clustersGVR), Namespaces: []string{"a", "c"}, CommonLabels: nameNamespace,
		Metrics: []MetricConfig{{Type: TypeStringState, Name: "status", Path: "status.phase"}}}
	r := startReceiver(t, clusterConfig(c.Kubeconfig, rc))
	eventuallyExactly(t, r.sink, "status", map[string]float64{
		`status{name="db",namespace="a",state="Running"}`: 1,
		`status{name="db",namespace="c",state="Running"}`: 1,
	})
	// An object created later in a watched namespace shows up; one in another does not.
	createObject(t, c, clustersGVR, cluster("late", "b", "Running", 1, "True"))
	createObject(t, c, clustersGVR, cluster("late", "a", "Failed", 1, "True"))
	eventuallyExactly(t, r.sink, "status", map[string]float64{
		`status{name="db",namespace="a",state="Running"}`:  1,
		`status{name="db",namespace="c",state="Running"}`:  1,
		`status{name="late",namespace="a",state="Failed"}`: 1,
	})
}

func TestIntegrationCRDInstalledAfterStart(t *testing.T) {
	c := k8stest.StartT(t)
	installCRDs(t, c, "storageprovider.yaml")
	createObject(t, c, storageProvidersGVR, storageProvider("s3", "Ready", "100%"))

	r := startReceiver(t, clusterConfig(c.Kubeconfig, clusterResource(), storageProviderResource()))
	// The installed resource works while the missing one is reported down.
	eventuallyExactly(t, r.sink, "crds.resource_up", map[string]float64{
		`crds.resource_up{resource="kubeblocks-cluster"}`: 0,
		`crds.resource_up{resource="storage-provider"}`:   1,
	})
	assert.Equal(t, 1.0, crdSeries(r.sink)[`kubeblocks_storageprovider_ready_ratio{name="s3"}`])
	require.Eventually(t, func() bool {
		ev := r.host.last()
		return ev != nil && ev.Status() == componentstatus.StatusRecoverableError && strings.Contains(ev.Err().Error(), "kubeblocks-cluster")
	}, waitFor, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		return r.logs.FilterMessageSnippet("retrying with backoff").FilterFieldKey("resource").Len() > 0
	}, waitFor, 50*time.Millisecond)
	assert.Contains(t, r.logs.FilterMessageSnippet("retrying").All()[0].ContextMap()["error"], "not served by the API server")

	installCRDs(t, c, "cluster.yaml")
	createNamespaces(t, c, "ns")
	createObject(t, c, clustersGVR, cluster("late", "ns", "Running", 1, "True"))
	eventuallyExactly(t, r.sink, "kubeblocks_cluster_status", map[string]float64{
		`kubeblocks_cluster_status{name="late",namespace="ns",state="Running"}`: 1,
	})
	assert.Equal(t, 1.0, crdSeries(r.sink)[`crds.resource_up{resource="kubeblocks-cluster"}`])
	require.Eventually(t, func() bool { return r.host.last().Status() == componentstatus.StatusOK }, waitFor, 50*time.Millisecond)
}

func TestIntegrationForbiddenResourceDoesNotBlockOthers(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	installCRDs(t, c, "cluster.yaml", "backup.yaml")
	createNamespaces(t, c, "ns")
	createObject(t, c, clustersGVR, cluster("db", "ns", "Running", 1, "True"))
	createObject(t, c, backupsGVR, backup("bk", "ns", "Completed"))

	// A user allowed to read clusters but not backups.
	kubeconfig, err := c.KubeconfigFor(t.TempDir(), "crds-reader")
	require.NoError(t, err)
	grantClusterRead(ctx, t, c, "crds-reader", clustersGVR.Group, clustersGVR.Resource)

	r := startReceiver(t, clusterConfig(kubeconfig, clusterResource(), backupResource()))
	eventuallyExactly(t, r.sink, "crds.resource_up", map[string]float64{
		`crds.resource_up{resource="kubeblocks-cluster"}`: 1,
		`crds.resource_up{resource="kubeblocks-backup"}`:  0,
	})
	assert.Equal(t, 1.0, crdSeries(r.sink)[`kubeblocks_cluster_status{name="db",namespace="ns",state="Running"}`])
	assert.Empty(t, series.WithPrefix(crdSeries(r.sink), "kubeblocks_backup"))
	require.Eventually(t, func() bool {
		ev := r.host.last()
		return ev != nil && ev.Status() == componentstatus.StatusRecoverableError && strings.Contains(ev.Err().Error(), "access forbidden")
	}, waitFor, 50*time.Millisecond)
	assert.Contains(t, r.host.last().Err().Error(), `resource "kubeblocks-backup"`)
}

// grantClusterRead lets user list and watch one resource cluster-wide.
func grantClusterRead(ctx context.Context, t *testing.T, c *k8stest.Cluster, user, group, resource string) {
	t.Helper()
	rbac := c.Client.RbacV1()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{group}, Resources: []string{resource}, Verbs: []string{"get", "list", "watch"}}}}
	_, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}}}
	_, err = rbac.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
	require.NoError(t, err)
}

func TestIntegrationLeaderGating(t *testing.T) {
	c := k8stest.StartT(t)
	installCRDs(t, c, "cluster.yaml")
	createNamespaces(t, c, "ns")
	createObject(t, c, clustersGVR, cluster("db", "ns", "Running", 1, "True"))

	r, elector := startGated(t, c, MetricConfig{Type: TypeCount, Name: "phase_count", Path: "status.phase"})

	followerEmitsNothing := func() {
		t.Helper()
		n := len(r.sink.AllMetrics())
		time.Sleep(300 * time.Millisecond) // several collection intervals
		assert.Len(t, r.sink.AllMetrics(), n, "a follower emitted")
	}
	followerEmitsNothing()

	elector.BecomeLeader()
	eventuallyExactly(t, r.sink, "phase_count", map[string]float64{`phase_count{value="Running"}`: 1})

	elector.LoseLeadership()
	eventuallyExactly(t, r.sink, "", map[string]float64{}) // the term's series are marked stale at once
	followerEmitsNothing()

	// A new term lists again: a change made while following is seen, no stale count survives.
	createObject(t, c, clustersGVR, cluster("db2", "ns", "Failed", 1, "False"))
	elector.BecomeLeader()
	eventuallyExactly(t, r.sink, "phase_count", map[string]float64{`phase_count{value="Running"}`: 1, `phase_count{value="Failed"}`: 1})
}

// An unchanged object's value error is counted once, not again by the next leadership term's
// list; a change to the object counts it again.
func TestIntegrationValueErrorsCountOncePerChange(t *testing.T) {
	c := k8stest.StartT(t)
	installCRDs(t, c, "cluster.yaml")
	createNamespaces(t, c, "ns")
	noStatus := cluster("bad", "ns", "", 1, "")
	delete(noStatus, "status")
	bad := createObject(t, c, clustersGVR, noStatus)

	r, elector := startGated(t, c, MetricConfig{Type: TypeStringState, Name: "status", Path: "status.phase"})
	listed := func(errors float64) map[string]float64 {
		return map[string]float64{
			`crds.objects{resource="clusters"}`:                      1,
			`crds.resource_up{resource="clusters"}`:                  1,
			`crds.value_errors{metric="status",resource="clusters"}`: errors,
		}
	}

	elector.BecomeLeader()
	eventuallyExactly(t, r.sink, "crds.", listed(1))
	for range 2 { // two more terms, each listing the unchanged object again
		elector.LoseLeadership()
		eventuallyExactly(t, r.sink, "", map[string]float64{}) // the term's series are marked stale
		elector.BecomeLeader()
		eventuallyExactly(t, r.sink, "crds.", listed(1))
	}

	bad.Object["spec"].(map[string]any)["replicas"] = int64(2)
	_, err := c.Dynamic.Resource(clustersGVR).Namespace("ns").Update(context.Background(), bad, metav1.UpdateOptions{})
	require.NoError(t, err)
	eventuallyExactly(t, r.sink, "crds.", listed(2))
}

// startGated starts the receiver on the "clusters" resource with metric, gated by a fake elector
// (a follower until the test makes it lead).
func startGated(t *testing.T, c *k8stest.Cluster, metric MetricConfig) (started, *leadergatetest.FakeElector) {
	t.Helper()
	electorID := component.MustNewIDWithName("k8s_leader_elector", "test")
	elector := &leadergatetest.FakeElector{}
	cfg := clusterConfig(c.Kubeconfig, ResourceConfig{Name: "clusters", GVR: gvrConfig(clustersGVR), CommonLabels: nameNamespace, Metrics: []MetricConfig{metric}})
	cfg.K8sLeaderElector = &electorID
	return startReceiverOn(t, cfg, leadergatetest.NewHost(electorID, elector)), elector
}
