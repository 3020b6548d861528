package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

// clusterCRD is KubeBlocks' Cluster (apps.kubeblocks.io/v1alpha1) reduced to what the demo's crds
// receiver reads, the rest preserved (as receiver/crdsreceiver/testdata/crds/cluster.yaml).
const clusterCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusters.apps.kubeblocks.io
spec:
  group: apps.kubeblocks.io
  scope: Namespaced
  names: {plural: clusters, singular: cluster, kind: Cluster, listKind: ClusterList}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
            status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

var clustersGVR = schema.GroupVersionResource{Group: "apps.kubeblocks.io", Version: "v1alpha1", Resource: "clusters"}

// createSampleClusters installs the KubeBlocks Cluster CRD and creates clusters named after the
// database receiver's samples, in namespace demo-databases: running, creating and failed ones, and
// demo-mongo, whose spec has no replicas field (its componentSpecs say it), so the crds receiver's
// kubeblocks_cluster_replicas cannot read it and counts a value error.
func createSampleClusters(ctx context.Context, cluster *k8stest.Cluster) error {
	const ns = "demo-databases" // createSampleDatabases made it
	step("installing the KubeBlocks Cluster CRD with clusters in %s for the crds receiver: demo-pg, demo-mysql, demo-redis (Running), demo-redis-down (Failed), demo-mongo (Creating, no spec.replicas: an unreadable value)", ns)
	dir, err := os.MkdirTemp("", "otelcol-sealos-demo-crds-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "cluster-crd.yaml")
	if err := os.WriteFile(path, []byte(clusterCRD), 0o600); err != nil {
		return err
	}
	if err := cluster.InstallCRDs(path); err != nil {
		return err
	}
	ready := func(status, reason string) []any {
		return []any{map[string]any{"type": "Ready", "status": status, "reason": reason}}
	}
	samples := []struct {
		name, def, version, phase string
		spec                      map[string]any
		conditions                []any
	}{
		{"demo-pg", "postgresql", "postgresql-14.8.0", "Running", map[string]any{"replicas": int64(1)}, ready("True", "ClusterReady")},
		{"demo-mysql", "apecloud-mysql", "ac-mysql-8.0.30", "Running", map[string]any{"replicas": int64(3)}, ready("True", "ClusterReady")},
		{"demo-redis", "redis", "redis-7.0.6", "Running", map[string]any{"replicas": int64(2)}, ready("True", "ClusterReady")},
		{"demo-redis-down", "redis", "redis-7.0.6", "Failed", map[string]any{"replicas": int64(1)}, ready("False", "ComponentsNotReady")},
		{"demo-mongo", "mongodb", "mongodb-6.0", "Creating", map[string]any{
			"componentSpecs": []any{map[string]any{"name": "mongodb", "replicas": int64(3)}},
		}, ready("False", "Provisioning")},
	}
	for _, s := range samples {
		spec := map[string]any{"clusterDefinitionRef": s.def, "clusterVersionRef": s.version}
		for k, v := range s.spec {
			spec[k] = v
		}
		status := map[string]any{"phase": s.phase, "conditions": s.conditions}
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster",
			"metadata": map[string]any{"name": s.name, "namespace": ns},
			"spec":     spec,
			"status":   status,
		}}
		if _, err := cluster.Dynamic.Resource(clustersGVR).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating cluster %s: %w", s.name, err)
		}
	}
	return nil
}
