package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The Operator resources in deploy/operator are the chart's objects for deploy/operator/values.yaml,
// translated: the config, pod settings and RBAC come from `helm template`, so both installs run the
// same configs with the same permissions. OTELCOL_SEALOS_UPDATE_OPERATOR=1 rewrites the files.
const operatorHeader = `# Generated from the Helm chart (deploy/helm/otelcol-sealos) with deploy/operator/values.yaml by
# TestOperatorResourcesMatchChart (OTELCOL_SEALOS_UPDATE_OPERATOR=1 rewrites it): the same config, pod
# settings and RBAC as the chart. The Operator passes --config, sets POD_NAME, derives its probes
# from health_check and rolls the pods on every config change (no in-place reload needed).
`

func TestOperatorResourcesMatchChart(t *testing.T) {
	values, err := os.ReadFile(repoPath("deploy", "operator", "values.yaml"))
	require.NoError(t, err)
	r := renderChart(t, string(values))

	want := map[string]string{
		"opentelemetrycollector.yaml":      operatorCollector(t, r, "Deployment", chartRelease),
		"opentelemetrycollector-node.yaml": operatorCollector(t, r, "DaemonSet", chartRelease+"-node"),
		"rbac.yaml":                        operatorRBAC(t, r),
	}
	for file, body := range want {
		path := repoPath("deploy", "operator", file)
		if os.Getenv("OTELCOL_SEALOS_UPDATE_OPERATOR") != "" {
			require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, body, string(got), "%s differs from the chart: rerun with OTELCOL_SEALOS_UPDATE_OPERATOR=1", file)
	}
}

// operatorCollector is the OpenTelemetryCollector for the chart's Deployment or DaemonSet.
func operatorCollector(t *testing.T, r rendered, kind, name string) string {
	t.Helper()
	workload := r.get(kind, name)
	require.NotNil(t, workload, "%s/%s", kind, name)
	pod, _, _ := unstructured.NestedMap(workload.Object, "spec", "template", "spec")
	container := pod["containers"].([]any)[0].(map[string]any)

	var config map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(r.configs()[name]), &config))
	// The Operator's probes come only from health_check.
	config["extensions"].(map[string]any)["health_check"] = map[string]any{"endpoint": "0.0.0.0:13133"}
	service := config["service"].(map[string]any)
	service["extensions"] = append(service["extensions"].([]any), "health_check")

	spec := map[string]any{
		"mode":           strings.ToLower(kind),
		"image":          container["image"],
		"serviceAccount": pod["serviceAccountName"],
		"env":            withoutEnv(container["env"].([]any), "POD_NAME"),
		"resources":      container["resources"],
		"config":         config,
	}
	if kind == "Deployment" {
		spec["replicas"], _, _ = unstructured.NestedFieldNoCopy(workload.Object, "spec", "replicas")
		spec["affinity"] = pod["affinity"]
	}
	for key, from := range map[string]string{"podSecurityContext": "securityContext", "hostPID": "hostPID", "tolerations": "tolerations"} {
		if v, ok := pod[from]; ok {
			spec[key] = v
		}
	}
	spec["securityContext"] = container["securityContext"]
	var mounts, volumes []any
	for _, m := range container["volumeMounts"].([]any) {
		if m.(map[string]any)["name"] != "config" { // the Operator mounts its own ConfigMap
			mounts = append(mounts, m)
		}
	}
	for _, v := range pod["volumes"].([]any) {
		if v.(map[string]any)["name"] != "config" {
			volumes = append(volumes, v)
		}
	}
	if len(mounts) > 0 {
		spec["volumeMounts"], spec["volumes"] = mounts, volumes
	}
	cr := map[string]any{
		"apiVersion": "opentelemetry.io/v1beta1",
		"kind":       "OpenTelemetryCollector",
		"metadata":   map[string]any{"name": name, "namespace": chartNamespace},
		"spec":       spec,
	}
	out, err := yaml.Marshal(cr)
	require.NoError(t, err)
	return operatorHeader + string(out)
}

func withoutEnv(env []any, name string) []any {
	var out []any
	for _, e := range env {
		if e.(map[string]any)["name"] != name {
			out = append(out, e)
		}
	}
	return out
}

// operatorRBAC is the chart's ServiceAccounts, roles and bindings without Helm's labels.
func operatorRBAC(t *testing.T, r rendered) string {
	t.Helper()
	var docs []string
	for _, o := range r.objects {
		switch o.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			o = o.DeepCopy()
			o.SetLabels(map[string]string{"app.kubernetes.io/name": "otelcol-sealos", "app.kubernetes.io/component": o.GetLabels()["app.kubernetes.io/component"]})
			out, err := yaml.Marshal(o.Object)
			require.NoError(t, err)
			docs = append(docs, string(out))
		}
	}
	return operatorHeader + "# Apply before the collectors: kubectl apply -f rbac.yaml\n" + strings.Join(docs, "---\n")
}
