package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// replica runs one collector whose node receiver is gated by contrib's k8s_leader_elector, and
// returns the URL of its Prometheus endpoint.
func replica(t *testing.T, c *k8stest.Cluster) (*otelcoltest.Process, string) {
	t.Helper()
	port := otelcoltest.FreePort(t)
	cfg := pipeline{
		receiverExtra: "    k8s_leader_elector: k8s_leader_elector",
		extension:     "k8s_leader_elector",
		extensions: `  k8s_leader_elector:
    auth_type: kubeConfig
    lease_name: otelcol-sealos-e2e
    lease_namespace: default
    lease_duration: 10s
    renew_deadline: 8s
    retry_period: 500ms`,
		exporter: "prometheus",
		exporters: fmt.Sprintf(`  prometheus:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
    metric_expiration: 2s`, port),
	}.write(t, c.Kubeconfig)
	t.Setenv("KUBECONFIG", c.Kubeconfig) // contrib's elector reads the default kubeconfig
	return otelcoltest.Start(t, cfg), fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
}

// exportsSampleNodes reports whether url serves exactly the sample nodes' series.
func exportsSampleNodes(url string) bool {
	all, err := otelcoltest.Scrape(url)
	return err == nil && assert.ObjectsAreEqual(sampleSeries(prometheusName), series.WithPrefix(all, "sealos_node_"))
}

// TestContribLeaderElectorGatesTheReceiver: with two replicas only the lease holder exports,
// and the other takes over when the leader stops (after the lease expires: contrib never releases it).
func TestContribLeaderElectorGatesTheReceiver(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)

	first, firstURL := replica(t, c)
	require.Eventually(t, func() bool { return exportsSampleNodes(firstURL) }, waitFor, 200*time.Millisecond,
		"the only replica never led:\n%s", first.Output())

	second, secondURL := replica(t, c)
	// The follower serves its endpoint but no node series, over several collection intervals.
	require.Eventually(t, func() bool { _, err := otelcoltest.Scrape(secondURL); return err == nil }, waitFor, 100*time.Millisecond)
	for i := 0; i < 10; i++ {
		all, err := otelcoltest.Scrape(secondURL)
		require.NoError(t, err)
		require.Empty(t, series.WithPrefix(all, "sealos_node_"), "the follower exported node series")
		time.Sleep(200 * time.Millisecond)
	}
	require.True(t, exportsSampleNodes(firstURL), "the leader stopped exporting")

	first.Stop()
	require.Eventually(t, func() bool { return exportsSampleNodes(secondURL) }, waitFor, 200*time.Millisecond,
		"the follower never took over:\n%s", second.Output())
}
