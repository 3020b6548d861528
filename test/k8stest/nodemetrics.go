package k8stest

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	crdResource         = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	nodeMetricsResource = schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "nodes"}
)

// ServeNodeMetrics makes the API server serve metrics.k8s.io/v1beta1 NodeMetrics, as
// metrics-server does, by installing a CustomResourceDefinition for it (envtest runs no
// aggregated APIs). Clients see the same URLs and objects.
func (c *Cluster) ServeNodeMetrics(ctx context.Context) error {
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata": map[string]any{
			"name": "nodes.metrics.k8s.io",
			// *.k8s.io groups are protected; this marks the CRD as a test stand-in.
			"annotations": map[string]any{"api-approved.kubernetes.io": "unapproved, test stand-in for metrics-server"},
		},
		"spec": map[string]any{
			"group": "metrics.k8s.io",
			"scope": "Cluster",
			"names": map[string]any{"plural": "nodes", "singular": "nodemetrics", "kind": "NodeMetrics", "listKind": "NodeMetricsList"},
			"versions": []any{map[string]any{
				"name": "v1beta1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	if _, err := c.Dynamic.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("installing NodeMetrics CRD: %w", err)
	}
	// Established within seconds; bounded wait.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := c.Dynamic.Resource(nodeMetricsResource).List(ctx, metav1.ListOptions{}); err == nil {
			return nil
		}
	}
	return fmt.Errorf("metrics.k8s.io NodeMetrics not served 30s after installing the CRD")
}

// ReportNodeMetrics records metrics-server usage for a node.
func (c *Cluster) ReportNodeMetrics(ctx context.Context, node string) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metrics.k8s.io/v1beta1",
		"kind":       "NodeMetrics",
		"metadata":   map[string]any{"name": node},
		"timestamp":  time.Now().UTC().Format(time.RFC3339),
		"window":     "20s",
		"usage":      map[string]any{"cpu": "250m", "memory": "1Gi"},
	}}
	_, err := c.Dynamic.Resource(nodeMetricsResource).Create(ctx, obj, metav1.CreateOptions{})
	return err
}
