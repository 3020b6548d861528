package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

// The CRDs of the operators the chart and deploy/operator write objects for, from their Go modules
// (downloaded through the module proxy into the module cache, not vendored).
var crdModules = []struct{ module, dir string }{
	{"github.com/prometheus-operator/prometheus-operator@v0.85.0", "example/prometheus-operator-crd"},
	{"github.com/cert-manager/cert-manager@v1.21.2", "deploy/crds"},
}

// Kinds whose CRDs no module served to us carries: the VictoriaMetrics operator's and the
// OpenTelemetry Operator's modules are not on the Go module proxy reachable here. Their objects are
// dry-run only when OTELCOL_SEALOS_EXTRA_CRDS names a folder with those CRDs.
var crdsNotInModules = map[string]string{
	"VMServiceScrape":        "github.com/VictoriaMetrics/operator",
	"VMRule":                 "github.com/VictoriaMetrics/operator",
	"OpenTelemetryCollector": "github.com/open-telemetry/opentelemetry-operator",
}

// moduleDir downloads mod@version into the module cache and returns its folder.
func moduleDir(t *testing.T, modVersion string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "go mod download %s:\n%s", modVersion, out.String())
	var info struct{ Dir, Error string }
	require.NoError(t, json.Unmarshal(out.Bytes(), &info), out.String())
	require.Empty(t, info.Error)
	return info.Dir
}

// startClusterWithCRDs starts an API server with the operators' CRDs installed.
func startClusterWithCRDs(t *testing.T) (*k8stest.Cluster, *restmapper.DeferredDiscoveryRESTMapper) {
	t.Helper()
	var paths []string
	for _, m := range crdModules {
		paths = append(paths, filepath.Join(moduleDir(t, m.module), m.dir))
	}
	if extra := os.Getenv("OTELCOL_SEALOS_EXTRA_CRDS"); extra != "" {
		paths = append(paths, extra)
	}
	c := k8stest.StartT(t)
	require.NoError(t, c.InstallCRDs(paths...))
	disco, err := discovery.NewDiscoveryClientForConfig(c.Config)
	require.NoError(t, err)
	return c, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
}

// ensureNamespace creates ns if missing.
func ensureNamespace(t *testing.T, c *k8stest.Cluster, ns string) {
	t.Helper()
	_, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// create sends obj to the API server with strict field validation; dryRun only validates it.
// It returns false when the kind is not served (a CRD we could not install).
func create(t *testing.T, c *k8stest.Cluster, mapper *restmapper.DeferredDiscoveryRESTMapper, obj *unstructured.Unstructured, dryRun bool) bool {
	t.Helper()
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if _, known := crdsNotInModules[gvk.Kind]; known {
			return false
		}
		require.NoError(t, err, "%s", gvk)
	}
	if ns := obj.GetNamespace(); ns != "" {
		ensureNamespace(t, c, ns)
	}
	opts := metav1.CreateOptions{FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = c.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()).Create(context.Background(), obj, opts)
	require.NoError(t, err, "%s %s/%s", gvk.Kind, obj.GetNamespace(), obj.GetName())
	return true
}

// TestChartAndOperatorObjectsDryRun sends every rendered object of every value combination, and the
// Operator resources, to a real API server with the real CRDs, server-side dry-run, strict fields.
func TestChartAndOperatorObjectsDryRun(t *testing.T) {
	c, mapper := startClusterWithCRDs(t)
	skipped := map[string]bool{}
	for _, v := range chartValues {
		t.Run(v.name, func(t *testing.T) {
			for _, obj := range renderChart(t, v.values).objects {
				if !create(t, c, mapper, obj, true) {
					skipped[obj.GetKind()] = true
				}
			}
		})
	}
	t.Run("operator", func(t *testing.T) {
		files, err := filepath.Glob(repoPath("deploy", "operator", "*.yaml"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			if filepath.Base(f) == "values.yaml" { // the chart values they are generated from
				continue
			}
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, obj := range parseObjects(t, string(raw)).objects {
				if !create(t, c, mapper, obj, true) {
					skipped[obj.GetKind()] = true
				}
			}
		}
	})
	for kind := range skipped {
		t.Logf("%s not dry-run: the module with its CRD (%s) is not served by the Go module proxy; set OTELCOL_SEALOS_EXTRA_CRDS to a folder with it", kind, crdsNotInModules[kind])
	}
}

// access is one permission a receiver needs: verb on resource (group/resource) in namespace ("" all).
type access struct{ verb, group, resource, namespace string }

// allowed asks the API server whether the ServiceAccount may do a.
func allowed(t *testing.T, c *k8stest.Cluster, namespace, serviceAccount string, a access) bool {
	t.Helper()
	review, err := c.Client.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   "system:serviceaccount:" + namespace + ":" + serviceAccount,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: a.verb, Group: a.group, Resource: a.resource, Namespace: a.namespace,
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return review.Status.Allowed
}

// applyRBAC creates the rendered ServiceAccounts, Roles, ClusterRoles and their bindings for real.
func applyRBAC(t *testing.T, c *k8stest.Cluster, mapper *restmapper.DeferredDiscoveryRESTMapper, r rendered) {
	t.Helper()
	for _, obj := range r.objects {
		switch obj.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
			create(t, c, mapper, obj, false)
		}
	}
}

// withoutReceiver returns enabledCollectors listing every receiver of allReceiversValues but these.
func withoutReceiver(names ...string) string {
	var keep []string
	for _, r := range strings.Fields("node database crds domain userbalance imagepull cloudbalance registryproxy cockroachlicense lvm zombie") {
		if !slices.Contains(names, r) {
			keep = append(keep, r)
		}
	}
	return "enabledCollectors: [" + strings.Join(keep, ", ") + "]"
}

// rbacRows: per receiver, the permissions its ServiceAccount must have with every receiver on, and
// must lack with it (and the receivers whose rules overlap) off. Rows for receivers the binary does
// not have yet still check the chart's RBAC; TestChartRBACRunsReceivers runs the ones it has.
var rbacRows = []struct {
	receiver string
	nodeSA   bool     // the DaemonSet's ServiceAccount
	overlaps []string // receivers granting the same access, disabled too for the "absent" check
	needs    []access
}{
	{receiver: "node", needs: []access{{"list", "", "nodes", ""}, {"watch", "", "nodes", ""}, {"list", "metrics.k8s.io", "nodes", ""}}},
	{receiver: "database", needs: []access{{"list", "", "secrets", ""}, {"watch", "", "secrets", ""}, {"list", "", "services", ""}, {"list", "discovery.k8s.io", "endpointslices", ""}}},
	{receiver: "crds", needs: []access{{"list", "monitoring.coreos.com", "servicemonitors", ""}, {"watch", "cert-manager.io", "certificates", "team-a"}}},
	{receiver: "userbalance", overlaps: []string{"database"}, needs: []access{{"get", "", "secrets", "billing"}}},
	{receiver: "imagepull", needs: []access{{"list", "", "pods", ""}, {"watch", "", "pods", ""}, {"watch", "", "events", ""}, {"list", "events.k8s.io", "events", ""}}},
	{receiver: "cloudbalance", overlaps: []string{"database"}, needs: []access{{"get", "", "secrets", "finance"}, {"watch", "", "secrets", "finance"}}},
	{receiver: "cockroachlicense", overlaps: []string{"database"}, needs: []access{{"get", "", "secrets", "crdb"}}},
	{receiver: "zombie", nodeSA: true, needs: []access{{"list", "", "pods", ""}, {"watch", "", "pods", ""}}},
}

// TestChartRBACIsMinimal: each receiver's ServiceAccount has what the receiver needs with it on, and
// not with it off; the crds receiver gets exactly its resources, Secrets only where referenced.
func TestChartRBACIsMinimal(t *testing.T) {
	c, mapper := startClusterWithCRDs(t)
	applyRBAC(t, c, mapper, renderChart(t, allReceiversValues))
	for _, row := range rbacRows {
		t.Run(row.receiver, func(t *testing.T) {
			sa := chartRelease
			if row.nodeSA {
				sa += "-node"
			}
			for _, a := range row.needs {
				require.True(t, allowed(t, c, chartNamespace, sa, a), "%s: %s should be allowed %+v", row.receiver, sa, a)
			}
			// The same chart without the receiver, as another release in its own namespace.
			release := "wo-" + row.receiver
			values := allReceiversValues + "\n" + withoutReceiver(append([]string{row.receiver}, row.overlaps...)...)
			out, err := renderChartErr(t, release, release, values)
			require.NoError(t, err, out)
			applyRBAC(t, c, mapper, parseObjects(t, out))
			for _, a := range row.needs {
				require.False(t, allowed(t, c, release, release+"-otelcol-sealos"+map[bool]string{true: "-node"}[row.nodeSA], a),
					"%s disabled: %+v should be denied", row.receiver, a)
			}
		})
	}
	t.Run("exactly", func(t *testing.T) {
		// With everything on: the crds receiver's resources only where configured, leases only in the
		// release namespace and without delete, nothing written, no auth reviews while auth is off.
		for _, a := range []access{
			{"list", "monitoring.coreos.com", "prometheusrules", ""},
			{"list", "cert-manager.io", "certificates", ""},
			{"create", "coordination.k8s.io", "leases", "default"},
			{"delete", "coordination.k8s.io", "leases", chartNamespace},
			{"create", "", "pods", ""},
			{"list", "", "configmaps", ""},
			{"create", "authentication.k8s.io", "tokenreviews", ""},
		} {
			require.False(t, allowed(t, c, chartNamespace, chartRelease, a), "%+v should be denied", a)
		}
		// Without database (the only cluster-wide Secrets rule), Secrets only where referenced.
		require.True(t, allowed(t, c, "wo-database", "wo-database-otelcol-sealos", access{"get", "", "secrets", "billing"}))
		require.False(t, allowed(t, c, "wo-database", "wo-database-otelcol-sealos", access{"get", "", "secrets", "kube-system"}))
	})
}
