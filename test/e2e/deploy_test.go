package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

// TestShippedConfigsValidate runs `otelcol-sealos validate` on every config we ship.
func TestShippedConfigsValidate(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "otelcol-sealos")
	t.Setenv("DEMO_KUBECONFIG", "/nonexistent/kubeconfig")
	operatorConfig := filepath.Join(t.TempDir(), "operator.yaml")
	writeOperatorConfig(t, operatorConfig)
	t.Setenv("K8S_NODE_NAME", "node-1") // the downward API, for the node-local receivers
	for _, cfg := range []string{repoPath("config", "demo.yaml"), repoPath("config", "cluster.yaml"), repoPath("config", "node.yaml"), operatorConfig} {
		t.Run(filepath.Base(cfg), func(t *testing.T) {
			col := otelcoltest.Run(t, "validate", "--config="+cfg)
			code, err := col.Wait(time.Minute)
			require.NoError(t, err)
			require.Zero(t, code, "validate %s:\n%s", cfg, col.Output())
		})
	}
}

// writeOperatorConfig extracts spec.config of the OpenTelemetryCollector example.
func writeOperatorConfig(t *testing.T, path string) {
	raw, err := os.ReadFile(repoPath("deploy", "operator", "opentelemetrycollector.yaml"))
	require.NoError(t, err)
	var cr struct {
		Spec struct {
			Config map[string]any `json:"config"`
		} `json:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cr))
	require.NotEmpty(t, cr.Spec.Config)
	out, err := yaml.Marshal(cr.Spec.Config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, out, 0o600))
}

// TestKubernetesManifestsApply creates every object of deploy/kubernetes in a real API server,
// which validates them against the Kubernetes schemas.
func TestKubernetesManifestsApply(t *testing.T) {
	c := k8stest.StartT(t)
	disco, err := discovery.NewDiscoveryClientForConfig(c.Config)
	require.NoError(t, err)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))

	created := 0
	for _, file := range []string{"namespace.yaml", "rbac.yaml", "cluster.yaml"} {
		raw, err := os.ReadFile(repoPath("deploy", "kubernetes", file))
		require.NoError(t, err)
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
				break
			} else {
				require.NoError(t, err, file)
			}
			if len(obj.Object) == 0 {
				continue
			}
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			require.NoError(t, err, "%s: %s", file, gvk)
			_, err = c.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()).Create(context.Background(), obj, metav1.CreateOptions{FieldValidation: "Strict"})
			require.NoError(t, err, "%s: %s %s", file, gvk.Kind, obj.GetName())
			created++
		}
	}
	assert.Equal(t, 9, created)

	// The ConfigMap carries exactly config/cluster.yaml.
	cm, err := c.Client.CoreV1().ConfigMaps("otelcol-sealos").Get(context.Background(), "otelcol-sealos-cluster", metav1.GetOptions{})
	require.NoError(t, err)
	want, err := os.ReadFile(repoPath("config", "cluster.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), cm.Data["config.yaml"])
}
