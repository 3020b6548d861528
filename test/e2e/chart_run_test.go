package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// localized is a chart-rendered config made runnable outside a pod: every component that talks to
// the API server uses kubeconfig (the ServiceAccount's identity) instead of the in-cluster token, and
// the ports are free loopback ports. Nothing else changes.
type localized struct {
	config      string
	metricsURL  string
	statusPort  int
	metricsPort int
}

func localize(t *testing.T, chartConfig, kubeconfig string) localized {
	t.Helper()
	return localizeOn(t, chartConfig, kubeconfig, otelcoltest.FreePort(t), otelcoltest.FreePort(t))
}

func localizeOn(t *testing.T, chartConfig, kubeconfig string, statusPort, metricsPort int) localized {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(chartConfig), &doc))
	kube := func(m map[string]any) {
		m["auth_type"] = "kubeConfig"
		m["kubeconfig_path"] = kubeconfig
	}
	for id, v := range doc["receivers"].(map[string]any) {
		if id == "config_reload" {
			continue
		}
		kube(v.(map[string]any))
	}
	l := localized{statusPort: statusPort, metricsPort: metricsPort}
	for id, v := range doc["extensions"].(map[string]any) {
		m, _ := v.(map[string]any)
		switch {
		case strings.HasPrefix(id, "leader_election/"):
			kube(m)
		case id == "status":
			m["endpoint"] = fmt.Sprintf("127.0.0.1:%d", l.statusPort)
		}
	}
	exporters := doc["exporters"].(map[string]any)
	if prom, ok := exporters["prometheus_state"].(map[string]any); ok {
		prom["endpoint"] = fmt.Sprintf("127.0.0.1:%d", l.metricsPort)
		l.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", l.metricsPort)
	}
	out, err := yaml.Marshal(doc)
	require.NoError(t, err)
	l.config = string(out)
	return l
}

// serviceAccountKubeconfig is a kubeconfig authenticating as the ServiceAccount (its user name and
// groups), so RBAC evaluates exactly what a pod with that account would get.
func serviceAccountKubeconfig(t *testing.T, c *k8stest.Cluster, namespace, name string) string {
	t.Helper()
	path, err := c.KubeconfigFor(t.TempDir(), "system:serviceaccount:"+namespace+":"+name,
		"system:serviceaccounts", "system:serviceaccounts:"+namespace, "system:authenticated")
	require.NoError(t, err)
	return path
}

// runRows: receivers that can run here against envtest with no other service, each installed alone
// (its own release and namespace) so that it gets only its own RBAC.
var runRows = []struct {
	receiver string
	nodeSA   bool
	values   string
	series   []string // more series that must be 1
}{
	{receiver: "node", values: `{node: {collection_interval: 1s, ignore_new_node_duration: 0s}}`},
	{receiver: "database", values: `{database: {collection_interval: 1s}}`},
	{
		receiver: "crds",
		values: `
  crds:
    collection_interval: 1s
` + testCRDs,
		series: []string{`sealos_crds_resource_up{resource="servicemonitors"}`, `sealos_crds_resource_up{resource="certificates"}`},
	},
	{receiver: "imagepull", values: `{imagepull: {collection_interval: 1s}}`},
	{receiver: "zombie", nodeSA: true, values: `{zombie: {collection_interval: 1s}}`},
}

// TestChartRBACRunsReceivers runs each receiver with the chart's config as the chart's
// ServiceAccount, with only the chart's RBAC: its cycles succeed and (cluster-wide receivers) it holds
// its lease. Rows for receivers the binary lacks skip until they land.
func TestChartRBACRunsReceivers(t *testing.T) {
	components := binaryComponents(t)
	c, mapper := startClusterWithCRDs(t)
	createSampleNodes(t, c)
	ensureNamespace(t, c, "team-a")
	t.Setenv("NODE_NAME", "node-healthy")
	for _, row := range runRows {
		t.Run(row.receiver, func(t *testing.T) {
			if !components[row.receiver] {
				t.Skipf("the binary lacks the %s receiver (not built yet); this row runs once it is in builder-config.yaml", row.receiver)
			}
			release := "run-" + row.receiver
			out, err := renderChartErr(t, release, release, "enabledCollectors: ["+row.receiver+"]\nreceivers:\n  "+strings.TrimSpace(row.values)+"\n")
			require.NoError(t, err, out)
			r := parseObjects(t, out)
			applyRBAC(t, c, mapper, r)
			name := release + "-otelcol-sealos"
			if row.nodeSA {
				name += "-node"
			}
			t.Setenv("POD_NAMESPACE", release)
			l := localize(t, r.configs()[name], serviceAccountKubeconfig(t, c, release, name))
			path := filepath.Join(t.TempDir(), "config.yaml")
			require.NoError(t, os.WriteFile(path, []byte(l.config), 0o600))
			col := otelcoltest.Start(t, path)
			want := append([]string{fmt.Sprintf(`sealos_state_metric_collector_success{collector=%q}`, row.receiver)}, row.series...)
			var last map[string]float64
			ok := assert.Eventually(t, func() bool {
				s, err := otelcoltest.Scrape(l.metricsURL)
				if err != nil {
					return false
				}
				last = s
				for _, w := range want {
					if s[w] != 1 {
						return false
					}
				}
				return true
			}, waitFor, 200*time.Millisecond)
			require.True(t, ok, "%s did not work with the chart's RBAC: want %v = 1; last scrape:\n%v\ncollector output:\n%s", row.receiver, want, last, col.Output())
			if !row.nodeSA {
				lease, err := c.Client.CoordinationV1().Leases(release).Get(context.Background(), release+"-otelcol-sealos-"+row.receiver, metav1.GetOptions{})
				require.NoError(t, err, "lease of %s", row.receiver)
				assert.NotEmpty(t, *lease.Spec.HolderIdentity)
			}
		})
	}
}

// TestChartConfigReloadsInPlace: the ConfigMap as the kubelet mounts it (a directory whose ..data
// symlink is swapped); a `helm upgrade` that changes receiver config is applied by the running
// collector without a restart.
func TestChartConfigReloadsInPlace(t *testing.T) {
	t.Setenv("OTELCOL_SEALOS_RELOAD_DEBOUNCE", "300ms")
	t.Setenv("POD_NAMESPACE", chartNamespace)
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	ensureNamespace(t, c, chartNamespace) // the leases'
	values := "enabledCollectors: [node]\nreceivers: {node: {collection_interval: 1s, ignore_new_node_duration: 0s}}\n"
	before := renderChart(t, values).configs()[chartRelease]
	after := renderChart(t, values, "--set", "receivers.node.report_all_conditions=true").configs()[chartRelease]
	require.NotEqual(t, before, after)

	l := localize(t, before, c.Kubeconfig)
	lAfter := localizeOn(t, after, c.Kubeconfig, l.statusPort, l.metricsPort).config

	dir := t.TempDir()
	mount := configMapMount(t, dir)
	mount(l.config)
	col := otelcoltest.Start(t, filepath.Join(dir, "config.yaml"))
	allConditions := `sealos_node_condition{condition="Ready",node="node-healthy",status="true"}`
	var loaded float64
	require.Eventually(t, func() bool {
		s, err := otelcoltest.Scrape(l.metricsURL)
		loaded = s["sealos_config_last_reload_success_timestamp_seconds"]
		_, all := s[allConditions]
		return err == nil && s[`sealos_node_healthy{node="node-healthy"}`] == 1 && !all && loaded > 0
	}, waitFor, 200*time.Millisecond)

	mount(lAfter)
	require.Eventually(t, func() bool {
		s, err := otelcoltest.Scrape(l.metricsURL)
		return err == nil && s[allConditions] == 1 && s["sealos_config_last_reload_success_timestamp_seconds"] > loaded
	}, waitFor, 200*time.Millisecond)
	assert.False(t, col.Exited(), "reloaded in place, no restart")
}

// configMapMount returns a function writing a new version of config.yaml into dir the way the
// kubelet updates a ConfigMap volume (a new timestamped folder, then an atomic ..data symlink swap).
func configMapMount(t *testing.T, dir string) func(string) {
	stamp := 0
	return func(body string) {
		stamp++
		ts := fmt.Sprintf("..2026_01_01_00_00_%02d.000000001", stamp)
		require.NoError(t, os.Mkdir(filepath.Join(dir, ts), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ts, "config.yaml"), []byte(body), 0o600))
		old, _ := os.Readlink(filepath.Join(dir, "..data"))
		require.NoError(t, os.Symlink(ts, filepath.Join(dir, "..data_tmp")))
		require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		if old != "" {
			require.NoError(t, os.RemoveAll(filepath.Join(dir, old)))
		} else {
			require.NoError(t, os.Symlink(filepath.Join("..data", "config.yaml"), filepath.Join(dir, "config.yaml")))
		}
	}
}
