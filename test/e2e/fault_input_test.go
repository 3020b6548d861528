package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// TestFaultBlackHoles: a database and a domain on a listener that accepts and never answers. Each
// check ends at its timeout, the cycles' wall time stays bounded by it, and SIGTERM during a cycle
// exits within 2 s.
func TestFaultBlackHoles(t *testing.T) {
	faultCase(t)
	silent := otelcoltest.SilentServer(t)
	port := otelcoltest.FreePort(t)
	const timeout = 2 * time.Second
	cfg := writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(`receivers:
  database:
    discover: false
    collection_interval: 1s
    initial_delay: 0s
    check_timeout: %[2]s
    targets:
      - {name: hung, engine: postgresql, endpoint: 127.0.0.1:%[1]d, username: u, password: p}
      - {name: hung-redis, engine: redis, endpoint: 127.0.0.1:%[1]d, password: p}
  domain:
    collection_interval: 1s
    timeout: %[2]s
    ipv6: false
    targets: [127.0.0.1:%[1]d]
`, silent, timeout), port, 0, "database", "domain"))
	col := otelcoltest.Start(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	want := map[string]float64{
		`sealos_database_connectivity{database="hung",error_type="timeout",namespace="",type="postgresql"}`:  0,
		`sealos_database_connectivity{database="hung-redis",error_type="timeout",namespace="",type="redis"}`: 0,
	}
	var got map[string]float64
	require.Eventually(t, func() bool {
		got, _ = otelcoltest.Scrape(url)
		for k, v := range want {
			if w, ok := got[k]; !ok || w != v {
				return false
			}
		}
		return got[`sealos_state_metric_collector_success{collector="domain"}`] == 1
	}, waitFor, 200*time.Millisecond, "no timeout reported: %v", series.WithPrefix(got, "sealos_"))
	domainStatus := series.WithPrefix(got, "sealos_domain_status")
	require.NotEmpty(t, domainStatus)
	for k, v := range domainStatus {
		assert.Contains(t, k, `error_type="timeout"`)
		assert.Zero(t, v)
	}

	// Several cycles: none takes much longer than one check's timeout.
	var longest float64
	for range 5 {
		time.Sleep(timeout)
		all, err := otelcoltest.Scrape(url)
		require.NoError(t, err)
		for _, r := range []string{"database", "domain"} {
			d := all[`sealos_state_metric_collector_duration_seconds{collector="`+r+`"}`]
			longest = max(longest, d)
			assert.Less(t, d, 2*timeout.Seconds(), "%s cycle took %.1f s with a %s check timeout", r, d, timeout)
		}
	}

	time.Sleep(timeout / 2) // checks are hanging now
	stopped := time.Now()
	require.NoError(t, col.Signal(syscall.SIGTERM))
	code, err := col.Wait(30 * time.Second)
	took := time.Since(stopped)
	require.NoError(t, err)
	assert.Zero(t, code, col.Output())
	assert.Less(t, took, 2*time.Second, "shutdown waited for the hung checks")
	figure(t, "black-holed database (PostgreSQL, Redis) and domain, %s timeout: longest cycle %.2f s; SIGTERM mid-cycle exited in %.2f s", timeout, longest, took.Seconds())
}

// TestFaultBadCertificates: an expired, a not-yet-valid and a wrong-host certificate each get their
// typed reason; the expired one's expiry is negative.
func TestFaultBadCertificates(t *testing.T) {
	faultCase(t)
	now := time.Now()
	addrs, caFile := domainTLSServers(t,
		leafSpec{dnsName: "localhost", notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-time.Hour)},
		leafSpec{dnsName: "localhost", notBefore: now.Add(24 * time.Hour), notAfter: now.Add(48 * time.Hour)},
		leafSpec{dnsName: "other.example", notBefore: now.Add(-time.Hour), notAfter: now.Add(24 * time.Hour)},
	)
	targets := make([]string, len(addrs))
	for i, a := range addrs {
		targets[i] = "localhost:" + a[strings.LastIndex(a, ":")+1:]
	}
	expired, notYet, wrongHost := targets[0], targets[1], targets[2]
	port := otelcoltest.FreePort(t)
	col := otelcoltest.Start(t, writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(`receivers:
  domain:
    collection_interval: 500ms
    timeout: 5s
    ipv6: false
    ca_file: %s
    targets: [%s]
`, caFile, strings.Join(targets, ", ")), port, 0, "domain")))
	certStatus := func(domain, reason string) string {
		return `sealos_domain_status{check_type="cert",domain="` + domain + `",error_type="` + reason + `",ip="127.0.0.1"}`
	}
	want := map[string]string{expired: "cert_expired", notYet: "cert_not_yet_valid", wrongHost: "cert_hostname_mismatch"}
	var got map[string]float64
	require.Eventually(t, func() bool {
		got, _ = otelcoltest.Scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		for domain, reason := range want {
			if v, ok := got[certStatus(domain, reason)]; !ok || v != 0 {
				return false
			}
		}
		return true
	}, waitFor, 200*time.Millisecond, "reasons: %v\n%s", series.WithPrefix(got, "sealos_domain_status"), col.Output())
	expiry := got[`sealos_domain_cert_expiry_seconds{domain="`+expired+`",ip="127.0.0.1"}`]
	assert.InDelta(t, -time.Hour.Seconds(), expiry, 60, "the expired certificate's expiry")
	assert.Positive(t, got[`sealos_domain_cert_expiry_seconds{domain="`+notYet+`",ip="127.0.0.1"}`])
	figure(t, "expired, not-yet-valid, wrong-host certificates: cert_expired (expiry %.0f s), cert_not_yet_valid, cert_hostname_mismatch", expiry)
}

// TestFaultHostileCustomObjects: custom objects with every read field of the wrong type, a 1 MiB
// label value and maps nested 200 deep. The receiver neither panics nor stops: the good object's
// series are right and the unreadable values are counted.
func TestFaultHostileCustomObjects(t *testing.T) {
	faultCase(t)
	c := k8stest.StartT(t)
	require.NoError(t, c.InstallCRDs(crdsTestdata+"cluster.yaml"))
	ctx := context.Background()
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	deep := map[string]any{"phase": "Running"}
	for range 200 {
		deep = map[string]any{"phase": deep}
	}
	huge := strings.Repeat("x", 1<<20)
	for name, fields := range map[string]map[string]any{
		"good":        {"spec": map[string]any{"replicas": 3, "clusterDefinitionRef": "mysql"}, "status": map[string]any{"phase": "Running", "components": map[string]any{"mysql": map[string]any{"phase": "Running"}}}},
		"wrong-types": {"spec": map[string]any{"replicas": "three", "clusterDefinitionRef": []any{"a", 1}}, "status": map[string]any{"phase": map[string]any{"a": 1}, "components": "none", "conditions": 42}},
		"huge-label":  {"spec": map[string]any{"replicas": 1, "clusterDefinitionRef": huge}, "status": map[string]any{"phase": "Running"}},
		"deep":        {"spec": map[string]any{"replicas": deep}, "status": map[string]any{"phase": deep, "components": map[string]any{"c": deep}, "conditions": []any{deep}}},
	} {
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster", "metadata": map[string]any{"name": name, "namespace": "ns"}}}
		for k, v := range fields {
			obj.Object[k] = v
		}
		_, err := c.Dynamic.Resource(crdsClustersGVR).Namespace("ns").Create(ctx, obj, metav1.CreateOptions{})
		require.NoError(t, err, "creating %s", name)
	}
	port := otelcoltest.FreePort(t)
	col := otelcoltest.Start(t, writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(`receivers:
  crds:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 500ms
    crds:
      - name: clusters
        gvr: {group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}
        common_labels: {name: metadata.name}
        metrics:
          - {type: gauge, name: cluster_replicas, path: spec.replicas}
          - {type: info, name: cluster_info, labels: {cluster_def: spec.clusterDefinitionRef}}
          - {type: string_state, name: cluster_status, path: status.phase}
          - {type: map_state, name: component_phase, path: status.components, value_path: phase, key_label: component}
          - {type: conditions, name: cluster_condition, path: status.conditions}
`, c.Kubeconfig), port, 0, "crds")))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	errorsOf := func(all map[string]float64) float64 {
		var n float64
		for _, v := range series.WithPrefix(all, "sealos_crds_value_errors_total") {
			n += v
		}
		return n
	}
	var got map[string]float64
	require.Eventually(t, func() bool {
		got, _ = otelcoltest.Scrape(url)
		return got[`sealos_crds_objects{resource="clusters"}`] == 4 && got[`sealos_cluster_replicas{name="good"}`] == 3 &&
			got[`sealos_component_phase{component="mysql",name="good",state="Running"}`] == 1 && errorsOf(got) > 0
	}, 2*time.Minute, 500*time.Millisecond, "series: %v\n%s", series.WithPrefix(got, "sealos_"), col.Output())
	time.Sleep(2 * time.Second) // a few more cycles over the same objects
	after, err := otelcoltest.Scrape(url)
	require.NoError(t, err)
	assert.Equal(t, 1.0, after[`sealos_state_metric_collector_success{collector="crds"}`])
	assert.Equal(t, errorsOf(got), errorsOf(after), "unchanged objects' errors are counted once")
	assert.False(t, col.Exited())
	assert.NotContains(t, col.Output(), "panic")
	_, hugeLabel := after[`sealos_cluster_info{cluster_def="`+huge+`",name="huge-label"}`]
	figure(t, "hostile custom objects (wrong types, 1 MiB value, 200-deep maps): no panic, %.0f value errors counted once, 1 MiB label exported: %v", errorsOf(after), hugeLabel)
}

// TestFaultConfigEdits: an invalid edit, a half-written file, a deleted file, then a valid one. The
// old config runs until the valid one applies; each rejected edit is counted once.
func TestFaultConfigEdits(t *testing.T) {
	faultCase(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	r, c, port := startReloadRig(t, map[string]string{"OTELCOL_SEALOS_RELOAD_DEBOUNCE": "300ms"}, dir, func(b string) { writeInPlace(t, path, b) })
	applied := r.last[lastReloadOK]
	valid := reloadConfig(c.Kubeconfig, port, "    report_all_conditions: true")

	rejected := 0.0
	for _, edit := range []struct {
		what  string
		apply func()
	}{
		{"an invalid edit", func() { writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, invalidNode)) }},
		{"a half-written file", func() { writeInPlace(t, path, valid[:len(valid)/2]) }},
		{"a deleted file", func() { require.NoError(t, os.Remove(path)) }},
	} {
		edit.apply()
		rejected++
		r.eventually(edit.what+" rejected and counted", func(s map[string]float64) bool { return s[reloadFailures] == rejected })
		r.nodeSeriesAdvancing("the old config runs on after " + edit.what)
		_, hasAll := r.last[allConditionsSeries]
		assert.False(t, hasAll, "nothing of the rejected edits applied")
		assert.Equal(t, applied, r.last[lastReloadOK])
	}
	time.Sleep(time.Second) // no second count for the same rejected edit
	require.Equal(t, rejected, r.scrape()[reloadFailures])

	writeInPlace(t, path, valid)
	r.eventually("the valid file applied", func(s map[string]float64) bool {
		return s[allConditionsSeries] == 1 && s[lastReloadOK] > applied
	})
	assert.Equal(t, rejected, r.last[reloadFailures])
	assert.False(t, r.col.Exited())
	figure(t, "invalid edit, half-written file, deleted file: old config ran on, %0.f failures counted (one each); the valid file applied", rejected)
}
