package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// Series that only exist with report_all_conditions: true (node-healthy has no abnormal condition).
const allConditionsSeries = `sealos_node_condition{condition="Ready",node="node-healthy",status="true"}`

const (
	reloadFailures = "sealos_config_reload_failures_total"
	lastReloadOK   = "sealos_config_last_reload_success_timestamp_seconds"
	rejectedLog    = "Config reload rejected"
)

// reloadConfig is the node receiver (no leader gating) plus the config_reload receiver, into the
// Prometheus exporter; nodeExtra adds keys under receivers.node (indented by 4).
func reloadConfig(kubeconfig string, port int, nodeExtra string) string {
	return exportedThroughPrometheus(fmt.Sprintf(`receivers:
  node:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 200ms
    initial_delay: 0s
    ignore_new_node_duration: 0s
%s
  config_reload:
    collection_interval: 200ms
`, kubeconfig, nodeExtra), port, 0, "node", "config_reload")
}

const invalidNode = "    bogus_key: 1" // unknown key: the decoding of the node config rejects it

// reloadRig is a running collector whose config file the test rewrites.
type reloadRig struct {
	t    *testing.T
	col  *otelcoltest.Process
	url  string
	last map[string]float64
}

func (r *reloadRig) scrape() map[string]float64 {
	all, err := otelcoltest.Scrape(r.url)
	if err != nil {
		return nil
	}
	r.last = all
	return all
}

// eventually waits until cond holds on a scrape, failing with the last scrape and the log.
func (r *reloadRig) eventually(what string, cond func(map[string]float64) bool) {
	r.t.Helper()
	ok := assert.Eventually(r.t, func() bool {
		s := r.scrape()
		return s != nil && cond(s)
	}, waitFor, 100*time.Millisecond)
	require.True(r.t, ok, "%s\nlast scrape: %v\ncollector exited: %v", what, series.WithPrefix(r.last, "sealos_"), r.col.Exited())
}

// nodeSeriesAdvancing waits until the node receiver reported again after now: the pipeline runs.
func (r *reloadRig) nodeSeriesAdvancing(what string) {
	r.t.Helper()
	since := float64(time.Now().Unix())
	r.eventually(what, func(s map[string]float64) bool {
		return s[`sealos_node_healthy{node="node-healthy"}`] == 1 &&
			s[`sealos_state_metric_collector_last_collection_timestamp{collector="node"}`] > since
	})
}

func startReloadRig(t *testing.T, env map[string]string, dir string, writeInitial func(string)) (*reloadRig, *k8stest.Cluster, int) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	port := otelcoltest.FreePort(t)
	writeInitial(reloadConfig(c.Kubeconfig, port, ""))
	col := otelcoltest.Start(t, filepath.Join(dir, "config.yaml"))
	r := &reloadRig{t: t, col: col, url: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}
	r.eventually("initial config exports", func(s map[string]float64) bool {
		_, hasAll := s[allConditionsSeries]
		failures, counted := s[reloadFailures]
		return s[`sealos_node_healthy{node="node-healthy"}`] == 1 && !hasAll && counted && failures == 0 && s[lastReloadOK] > 0
	})
	return r, c, port
}

func writeInPlace(t *testing.T, path, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
}

func TestReloadOnFileChangeRejectsInvalidAndRecovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	r, c, port := startReloadRig(t, map[string]string{"OTELCOL_SEALOS_RELOAD_DEBOUNCE": "300ms"}, dir, func(b string) { writeInPlace(t, path, b) })
	firstLoad := r.last[lastReloadOK]

	// A receiver setting changes what is exported.
	writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, "    report_all_conditions: true"))
	r.eventually("report_all_conditions: true applied", func(s map[string]float64) bool {
		return s[allConditionsSeries] == 1 && s[lastReloadOK] > firstLoad
	})
	applied := r.last[lastReloadOK]

	// An invalid edit: rejected, counted once, logged once naming the key; the old pipeline runs on.
	writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, "    report_all_conditions: false\n"+invalidNode))
	r.eventually("rejection counted", func(s map[string]float64) bool { return s[reloadFailures] == 1 })
	r.nodeSeriesAdvancing("the old pipeline keeps exporting after the rejected edit")
	assert.Equal(t, 1.0, r.last[allConditionsSeries], "still the previous config (report_all_conditions: true)")
	assert.Equal(t, applied, r.last[lastReloadOK])
	assert.False(t, r.col.Exited())
	assert.Equal(t, 1, strings.Count(r.col.Output(), rejectedLog), r.col.Output())
	assert.Contains(t, r.col.Output(), "bogus_key")

	// Fixing the file recovers.
	writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, "    report_all_conditions: false"))
	r.eventually("fixed config applied", func(s map[string]float64) bool {
		_, hasAll := s[allConditionsSeries]
		return !hasAll && s[lastReloadOK] > applied && s[`sealos_node_healthy{node="node-healthy"}`] == 1
	})
	assert.Equal(t, 1.0, r.last[reloadFailures], "the failure counter survives the reload")
}

// The kubelet's ConfigMap volume: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/.
func TestReloadOnConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	swap := configMapMount(t, dir)
	r, c, port := startReloadRig(t, map[string]string{"OTELCOL_SEALOS_RELOAD_DEBOUNCE": "300ms"}, dir, swap)

	swap(reloadConfig(c.Kubeconfig, port, "    report_all_conditions: true"))
	r.eventually("swap applied", func(s map[string]float64) bool { return s[allConditionsSeries] == 1 })

	swap(reloadConfig(c.Kubeconfig, port, invalidNode))
	r.eventually("invalid swap rejected", func(s map[string]float64) bool { return s[reloadFailures] == 1 })
	r.nodeSeriesAdvancing("old pipeline keeps exporting")
	assert.Equal(t, 1.0, r.last[allConditionsSeries])

	swap(reloadConfig(c.Kubeconfig, port, ""))
	r.eventually("recovered", func(s map[string]float64) bool {
		_, hasAll := s[allConditionsSeries]
		return !hasAll && s[`sealos_node_healthy{node="node-healthy"}`] == 1
	})
	assert.False(t, r.col.Exited())
}

// SIGHUP reloads (core), and an invalid file at SIGHUP keeps the collector up on the old config.
// The debounce is an hour so that only the signal can trigger the reloads here.
func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	r, c, port := startReloadRig(t, map[string]string{"OTELCOL_SEALOS_RELOAD_DEBOUNCE": "1h"}, dir, func(b string) { writeInPlace(t, path, b) })

	writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, "    report_all_conditions: true"))
	require.NoError(t, r.col.Signal(syscall.SIGHUP))
	r.eventually("SIGHUP applied the change", func(s map[string]float64) bool { return s[allConditionsSeries] == 1 })

	writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, invalidNode))
	require.NoError(t, r.col.Signal(syscall.SIGHUP))
	r.eventually("SIGHUP with an invalid file is rejected", func(s map[string]float64) bool { return s[reloadFailures] == 1 })
	r.nodeSeriesAdvancing("the previous config runs again after the SIGHUP restart")
	assert.Equal(t, 1.0, r.last[allConditionsSeries], "previous config: report_all_conditions: true")
	assert.False(t, r.col.Exited())
	assert.Contains(t, r.col.Output(), "bogus_key")
}

// A reload that adds a receiver in a new pipeline, then one that removes both: the new pipeline
// exports after the first edit, its series are gone after the second, and the collector keeps
// running (and exporting the first pipeline) throughout.
func TestReloadAddsAndRemovesAReceiverAndPipeline(t *testing.T) {
	t.Setenv("OTELCOL_SEALOS_RELOAD_DEBOUNCE", "300ms")
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	port := otelcoltest.FreePort(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	reloadOnly := "receivers:\n  config_reload:\n    collection_interval: 200ms\n"
	base := exportedThroughPrometheus(reloadOnly, port, 0, "config_reload")
	withNodes := exportedThroughPrometheus(reloadOnly+fmt.Sprintf(`  node:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 200ms
    initial_delay: 0s
    ignore_new_node_duration: 0s
`, c.Kubeconfig), port, 0, "config_reload") + `    metrics/nodes:
      receivers: [node]
      exporters: [prometheus]
`
	writeInPlace(t, path, base)
	col := otelcoltest.Start(t, path)
	r := &reloadRig{t: t, col: col, url: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}
	nodeSeries := `sealos_node_healthy{node="node-healthy"}`
	r.eventually("the first pipeline exports", func(s map[string]float64) bool {
		_, hasNode := s[nodeSeries]
		return s[lastReloadOK] > 0 && !hasNode
	})
	loaded := r.last[lastReloadOK]

	writeInPlace(t, path, withNodes)
	r.eventually("the added pipeline exports", func(s map[string]float64) bool { return s[nodeSeries] == 1 && s[lastReloadOK] > loaded })
	loaded = r.last[lastReloadOK]

	writeInPlace(t, path, base)
	r.eventually("the removed pipeline's series are gone", func(s map[string]float64) bool {
		_, hasNode := s[nodeSeries]
		return !hasNode && s[lastReloadOK] > loaded
	})
	// Never may leave its last check running when it returns: the check keeps to its own scrape.
	require.Never(t, func() bool {
		s, err := otelcoltest.Scrape(r.url)
		_, hasNode := s[nodeSeries]
		return err == nil && hasNode
	}, 5*200*time.Millisecond, 100*time.Millisecond, "the removed receiver still runs (5 of its collection intervals)")
	assert.Zero(t, r.scrape()[reloadFailures])
	assert.False(t, col.Exited())
}

// OTELCOL_<PATH> beats the file, at start and after a reload.
func TestEnvironmentOverrideSurvivesReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	t.Setenv("OTELCOL_SEALOS_RELOAD_DEBOUNCE", "300ms")
	t.Setenv("OTELCOL_RECEIVERS__NODE__REPORT_ALL_CONDITIONS", "true")
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	port := otelcoltest.FreePort(t)
	writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, "    report_all_conditions: false"))
	col := otelcoltest.Start(t, path)
	r := &reloadRig{t: t, col: col, url: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}
	r.eventually("override applied at start", func(s map[string]float64) bool { return s[allConditionsSeries] == 1 })
	first := r.last[lastReloadOK]

	writeInPlace(t, path, reloadConfig(c.Kubeconfig, port, "    report_all_conditions: false\n    sync_timeout: 4s"))
	r.eventually("reloaded with the override still applied", func(s map[string]float64) bool {
		return s[lastReloadOK] > first && s[allConditionsSeries] == 1
	})
	assert.Contains(t, col.Output(), "OTELCOL_RECEIVERS__NODE__REPORT_ALL_CONDITIONS")
}

func TestEnvironmentOverrideOfAMissingKeyFailsNamingTheVariable(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__NODE__COLECTION_INTERVAL", "1m")
	cfg := writeConfig(t, reloadConfig("/nonexistent", otelcoltest.FreePort(t), ""))
	col := otelcoltest.Start(t, cfg)
	code, err := col.Wait(30 * time.Second)
	require.NoError(t, err, col.Output())
	assert.NotZero(t, code)
	assert.Contains(t, col.Output(), `OTELCOL_RECEIVERS__NODE__COLECTION_INTERVAL: no such config key: nothing under "receivers::node" matches "COLECTION_INTERVAL"`)
}
