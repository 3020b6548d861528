package crdsreceiver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

// The test CRDs (testdata/crds) and objects modelled on KubeBlocks.
var (
	clustersGVR         = schema.GroupVersionResource{Group: "apps.kubeblocks.io", Version: "v1alpha1", Resource: "clusters"}
	backupsGVR          = schema.GroupVersionResource{Group: "dataprotection.kubeblocks.io", Version: "v1alpha1", Resource: "backups"}
	storageProvidersGVR = schema.GroupVersionResource{Group: "dataprotection.kubeblocks.io", Version: "v1alpha1", Resource: "storageproviders"}
)

func gvrConfig(g schema.GroupVersionResource) GVRConfig {
	return GVRConfig{Group: g.Group, Version: g.Version, Resource: g.Resource}
}

var nameNamespace = map[string]string{"name": "metadata.name", "namespace": "metadata.namespace"}

// clusterResource declares one metric of every per-object type on Clusters, and a count.
func clusterResource() ResourceConfig {
	return ResourceConfig{
		Name: "kubeblocks-cluster", GVR: gvrConfig(clustersGVR), CommonLabels: nameNamespace,
		Metrics: []MetricConfig{
			{Type: TypeInfo, Name: "kubeblocks_cluster_info", Help: "Cluster information", Labels: map[string]string{
				"cluster_def": "spec.clusterDefinitionRef", "cluster_version": "spec.clusterVersionRef", "app": `metadata.labels["app.kubernetes.io/name"]`}},
			{Type: TypeGauge, Name: "kubeblocks_cluster_replicas", Help: "Replicas", Path: "spec.replicas"},
			{Type: TypeGauge, Name: "kubeblocks_cluster_ready", Help: "Ready condition as a number", Path: "status.conditions[type=Ready].status"},
			{Type: TypeCount, Name: "kubeblocks_phase_count", Help: "Clusters per phase", Path: "status.phase"},
			{Type: TypeStringState, Name: "kubeblocks_cluster_status", Help: "Cluster phase", Path: "status.phase"},
			{Type: TypeMapState, Name: "kubeblocks_cluster_component_phase", Help: "Component phases", Path: "status.components", ValuePath: "phase", KeyLabel: "component"},
			{Type: TypeConditions, Name: "kubeblocks_cluster_condition", Help: "Cluster conditions", Path: "status.conditions"},
		},
	}
}

// backupResource reads quantities, durations, times, a map of scalars and counts per namespace.
func backupResource() ResourceConfig {
	return ResourceConfig{
		Name: "kubeblocks-backup", GVR: gvrConfig(backupsGVR), CommonLabels: nameNamespace,
		Metrics: []MetricConfig{
			{Type: TypeInfo, Name: "kubeblocks_backup_info", Help: "Backup information", Labels: map[string]string{
				"backup_method": "spec.backupMethod", "backup_policy_name": "spec.backupPolicyName"}},
			{Type: TypeGauge, Name: "kubeblocks_backup_total_size_bytes", Help: "Total size", Path: "status.totalSize"},
			{Type: TypeGauge, Name: "kubeblocks_backup_duration_seconds", Help: "Duration", Path: "status.duration"},
			{Type: TypeGauge, Name: "kubeblocks_backup_start_timestamp", Help: "Start time", Path: "status.startTimestamp"},
			{Type: TypeMapGauge, Name: "kubeblocks_backup_size_bytes", Help: "Size per part", Path: "status.sizes", KeyLabel: "part"},
			{Type: TypeCount, Name: "kubeblocks_backup_count", Help: "Backups per phase and namespace", Path: "status.phase",
				Labels: map[string]string{"namespace": "metadata.namespace"}},
		},
	}
}

// storageProviderResource is cluster-scoped.
func storageProviderResource() ResourceConfig {
	return ResourceConfig{
		Name: "storage-provider", GVR: gvrConfig(storageProvidersGVR), CommonLabels: map[string]string{"name": "metadata.name"},
		Metrics: []MetricConfig{
			{Type: TypeStringState, Name: "kubeblocks_storageprovider_status", Help: "Phase", Path: "status.phase"},
			{Type: TypeGauge, Name: "kubeblocks_storageprovider_ready_ratio", Help: "Ready share", Path: "status.readyRatio"},
		},
	}
}

func cluster(name, ns, phase string, replicas int64, ready string) map[string]any {
	return map[string]any{
		"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app.kubernetes.io/name": "mysql"}},
		"spec":     map[string]any{"clusterDefinitionRef": "apecloud-mysql", "clusterVersionRef": "ac-mysql-8.0.30", "replicas": replicas},
		"status": map[string]any{
			"phase": phase,
			"conditions": []any{
				map[string]any{"type": "Ready", "status": ready, "reason": "AllReplicasReady"},
				map[string]any{"type": "ProvisioningStarted", "status": "True", "reason": "PreCheckSucceed"},
			},
			"components": map[string]any{
				"mysql": map[string]any{"phase": phase},
				"proxy": map[string]any{"phase": "Running"},
				"bogus": "not an object", // skipped and counted as a value error
			},
		},
	}
}

func backup(name, ns, phase string) map[string]any {
	return map[string]any{
		"apiVersion": "dataprotection.kubeblocks.io/v1alpha1", "kind": "Backup",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"backupMethod": "xtrabackup", "backupPolicyName": name + "-policy"},
		"status": map[string]any{
			"phase": phase, "totalSize": "2Gi", "duration": "1h30m", "startTimestamp": "2026-01-02T03:04:05Z",
			"sizes": map[string]any{"data": "1536Mi", "log": "512Mi"},
		},
	}
}

func storageProvider(name, phase, ratio string) map[string]any {
	return map[string]any{
		"apiVersion": "dataprotection.kubeblocks.io/v1alpha1", "kind": "StorageProvider",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"csiDriverName": "hostpath.csi.k8s.io"},
		"status":   map[string]any{"phase": phase, "readyRatio": ratio},
	}
}

func installCRDs(t *testing.T, c *k8stest.Cluster, files ...string) {
	t.Helper()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = "testdata/crds/" + f
	}
	require.NoError(t, c.InstallCRDs(paths...))
}

func createNamespaces(t testing.TB, c *k8stest.Cluster, names ...string) {
	t.Helper()
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	for _, n := range names {
		_, err := c.Dynamic.Resource(nsGVR).Create(context.Background(), &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": n}}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
}

func createObject(t *testing.T, c *k8stest.Cluster, gvr schema.GroupVersionResource, obj map[string]any) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	created, err := c.Dynamic.Resource(gvr).Namespace(u.GetNamespace()).Create(context.Background(), u, metav1.CreateOptions{})
	require.NoError(t, err)
	return created
}
