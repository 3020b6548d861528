package e2e

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// TestAPIServerDownAtStart starts the collector while the API server is unreachable: it starts,
// /status names the reason, the metrics appear once the server is back; a reload during a second
// outage keeps the collector up.
func TestAPIServerDownAtStart(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	proxy := c.StartProxyT(t)
	proxy.Down()

	metricsPort, statusPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	cfg := writeConfig(t, fmt.Sprintf(`receivers:
  node:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 300ms
    initial_delay: 0s
    ignore_new_node_duration: 0s
    sync_timeout: 1s
extensions:
  status:
    endpoint: 127.0.0.1:%d
exporters:
  prometheus:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
service:
  extensions: [status]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [node]
      exporters: [prometheus]
`, proxy.Kubeconfig, statusPort, metricsPort))
	col := otelcoltest.Start(t, cfg)
	r := &electionReplica{metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), status: fmt.Sprintf("http://127.0.0.1:%d", statusPort), Process: col}

	var doc statusDoc
	require.Eventually(t, func() bool {
		doc, _ = r.statusOf()
		return doc.Receivers["node"].State == "failed"
	}, waitFor, 100*time.Millisecond, "the outage is not shown in /status: %+v\n%s", doc, col.Output())
	assert.Contains(t, doc.Receivers["node"].LastError, "connection refused")
	assert.Contains(t, doc.Receivers["node"].LastError, "API server unreachable")
	assert.Equal(t, http.StatusOK, r.probe("/livez"), "an unreachable API server must not fail liveness")
	assert.False(t, col.Exited())

	require.NoError(t, proxy.Up())
	require.Eventually(t, r.exports, waitFor, 100*time.Millisecond, "no metrics after the API server came back:\n%s", col.Output())
	require.Eventually(t, func() bool { return r.nodeState() == "running" }, waitFor, 100*time.Millisecond)

	// A reload while the API server is down again: the collector stays up and recovers.
	proxy.Down()
	require.NoError(t, col.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return r.nodeState() == "failed" }, waitFor, 100*time.Millisecond, "\n%s", col.Output())
	assert.False(t, col.Exited(), "a reload during an outage stopped the collector:\n%s", col.Output())
	require.NoError(t, proxy.Up())
	require.Eventually(t, func() bool { return r.nodeState() == "running" && r.exports() }, waitFor, 100*time.Millisecond, "\n%s", col.Output())
}
