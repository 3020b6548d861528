package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// The crds receiver's test CRDs live with the receiver.
const crdsTestdata = "../../receiver/crdsreceiver/testdata/crds/"

var crdsClustersGVR = schema.GroupVersionResource{Group: "apps.kubeblocks.io", Version: "v1alpha1", Resource: "clusters"}

// crdsConfig is the predecessor chart's kubeblocks-cluster entry, key for key in snake_case.
const crdsConfig = `receivers:
  crds:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 200ms
    crds:
      - name: kubeblocks-cluster
        gvr: {group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}
        namespaces: []
        resync_period: 10m
        common_labels:
          name: metadata.name
          namespace: metadata.namespace
        metrics:
          - type: info
            name: kubeblocks_cluster_info
            help: Cluster information
            labels:
              cluster_def: spec.clusterDefinitionRef
              cluster_version: spec.clusterVersionRef
          - type: count
            name: kubeblocks_phase_count
            help: kubeblocks phase count
            path: status.phase
          - type: string_state
            name: kubeblocks_cluster_status
            help: kubeblocks cluster status
            path: status.phase
`

func crdsCreateCluster(t *testing.T, c *k8stest.Cluster, name, ns, phase string) {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"clusterDefinitionRef": "apecloud-mysql", "clusterVersionRef": "ac-mysql-8.0.30"},
		"status":   map[string]any{"phase": phase},
	}}
	_, err := c.Dynamic.Resource(crdsClustersGVR).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
	require.NoError(t, err)
}

func TestCRDsPrometheusExporterServesPredecessorSeries(t *testing.T) {
	c := k8stest.StartT(t)
	require.NoError(t, c.InstallCRDs(crdsTestdata+"cluster.yaml"))
	_, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	crdsCreateCluster(t, c, "db-1", "ns", "Running")
	crdsCreateCluster(t, c, "db-2", "ns", "Running")
	crdsCreateCluster(t, c, "db-3", "ns", "Creating")

	port := otelcoltest.FreePort(t)
	col := otelcoltest.Start(t, writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(crdsConfig, c.Kubeconfig), port, 0, "crds")))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	info := func(name string) string {
		return `sealos_kubeblocks_cluster_info{cluster_def="apecloud-mysql",cluster_version="ac-mysql-8.0.30",name="` + name + `",namespace="ns"}`
	}
	want := map[string]float64{
		info("db-1"): 1, info("db-2"): 1, info("db-3"): 1,
		`sealos_kubeblocks_phase_count{value="Running"}`:                                2,
		`sealos_kubeblocks_phase_count{value="Creating"}`:                               1,
		`sealos_kubeblocks_cluster_status{name="db-1",namespace="ns",state="Running"}`:  1,
		`sealos_kubeblocks_cluster_status{name="db-2",namespace="ns",state="Running"}`:  1,
		`sealos_kubeblocks_cluster_status{name="db-3",namespace="ns",state="Creating"}`: 1,
	}
	var got map[string]float64
	ok := assert.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return false
		}
		got = all
		return assert.ObjectsAreEqual(want, series.WithPrefix(all, "sealos_kubeblocks_"))
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "series: %v\ncollector exited: %v", series.WithPrefix(got, "sealos_kubeblocks_"), col.Exited())

	assert.Equal(t, 1.0, got[`sealos_crds_resource_up{resource="kubeblocks-cluster"}`])
	assert.Equal(t, 3.0, got[`sealos_crds_objects{resource="kubeblocks-cluster"}`])
	assert.Equal(t, 0.0, got[`sealos_crds_value_errors_total{metric="kubeblocks_cluster_status",resource="kubeblocks-cluster"}`])
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="crds"}`])
	for name := range got {
		assert.True(t, strings.HasPrefix(name, "sealos_kubeblocks_") || strings.HasPrefix(name, "sealos_crds_") ||
			strings.HasPrefix(name, "sealos_state_metric_collector_"), "unexpected series %s", name)
	}
}

func TestCRDsBadConfigExitsNamingTheKeyPath(t *testing.T) {
	cfg := writeConfig(t, `receivers:
  crds:
    auth_type: none
    crds:
      - name: x
        gvr: {group: g, version: v1, resource: xs}
        common_labels: {name: metadata.name}
        metrics:
          - {type: info, name: x_info, labels: {name: spec.name}}
          - {type: gauge, name: x_gauge, path: "status.conditions[type=Ready"}
exporters:
  debug:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [crds]
      exporters: [debug]
`)
	col := otelcoltest.Start(t, cfg)
	code, err := col.Wait(30 * time.Second)
	require.NoError(t, err, "output:\n%s", col.Output())
	assert.NotZero(t, code)
	assert.Contains(t, col.Output(), `crds[0].metrics[0].labels.name: label "name" is defined twice`)
	assert.Contains(t, col.Output(), "crds[0].metrics[1].path: unterminated '['")
}

// The resource list is configuration: editing the file swaps the watched resources without a
// restart (the watching file provider reloads; the receiver starts over with the new list).
func TestCRDsResourceListChangesOnReload(t *testing.T) {
	t.Setenv("OTELCOL_SEALOS_RELOAD_DEBOUNCE", "300ms")
	c := k8stest.StartT(t)
	require.NoError(t, c.InstallCRDs(crdsTestdata+"cluster.yaml", crdsTestdata+"backup.yaml"))
	_, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	crdsCreateCluster(t, c, "db-1", "ns", "Running")
	backups := schema.GroupVersionResource{Group: "dataprotection.kubeblocks.io", Version: "v1alpha1", Resource: "backups"}
	_, err = c.Dynamic.Resource(backups).Namespace("ns").Create(context.Background(), &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "dataprotection.kubeblocks.io/v1alpha1", "kind": "Backup",
		"metadata": map[string]any{"name": "bk-1", "namespace": "ns"},
		"status":   map[string]any{"phase": "Completed"},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)

	port := otelcoltest.FreePort(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	write := func(receivers string) {
		writeInPlace(t, path, exportedThroughPrometheus(receivers, port, 2*time.Second, "crds"))
	}
	write(fmt.Sprintf(crdsConfig, c.Kubeconfig))
	col := otelcoltest.Start(t, path)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	clusterInfo := `sealos_kubeblocks_cluster_info{cluster_def="apecloud-mysql",cluster_version="ac-mysql-8.0.30",name="db-1",namespace="ns"}`
	backupStatus := `sealos_kubeblocks_backup_status{name="bk-1",namespace="ns",state="Completed"}`
	await := func(what string, cond func(map[string]float64) bool) {
		t.Helper()
		var last map[string]float64
		ok := assert.Eventually(t, func() bool {
			all, err := otelcoltest.Scrape(url)
			last = series.WithPrefix(all, "sealos_kubeblocks_")
			return err == nil && cond(all)
		}, waitFor, 200*time.Millisecond)
		require.True(t, ok, "%s; series: %v; collector exited: %v\n%s", what, last, col.Exited(), col.Output())
	}
	await("clusters exported", func(all map[string]float64) bool { return all[clusterInfo] == 1 })

	write(fmt.Sprintf(`receivers:
  crds:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 200ms
    crds:
      - name: kubeblocks-backup
        gvr: {group: dataprotection.kubeblocks.io, version: v1alpha1, resource: backups}
        common_labels: {name: metadata.name, namespace: metadata.namespace}
        metrics:
          - {type: string_state, name: kubeblocks_backup_status, help: backup phase, path: status.phase}
`, c.Kubeconfig))
	await("backups exported and clusters gone after the reload", func(all map[string]float64) bool {
		_, clusters := all[clusterInfo]
		return all[backupStatus] == 1 && !clusters
	})
	assert.Contains(t, col.Output(), "Config updated, restart service", "the collector did not reload")
}
