package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// The node receiver feeds both the prometheus_state exporter and the contrib prometheus
// exporter of the real binary: both serve the predecessor's series, and the same samples.
func TestPrometheusStateExporterServesWhatContribServes(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	statePort, contribPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	cfg := pipeline{exporter: "prometheus_state, prometheus", exporters: fmt.Sprintf(`  prometheus_state:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
  prometheus:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true`, statePort, contribPort)}.write(t, c.Kubeconfig)
	col := otelcoltest.Start(t, cfg)

	stateURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", statePort)
	contribURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", contribPort)
	want := sampleSeries(prometheusName)
	var got map[string]float64
	ok := assert.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(stateURL)
		if err != nil {
			return false
		}
		got = all
		return assert.ObjectsAreEqual(want, series.WithPrefix(all, "sealos_node_"))
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "node series: %v\ncollector exited: %v", series.WithPrefix(got, "sealos_node_"), col.Exited())
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="node"}`])
	assert.Equal(t, 0.0, got["prometheus_state_exporter_duplicate_series_total"])
	for name := range got {
		assert.True(t, strings.HasPrefix(name, "sealos_node_") || strings.HasPrefix(name, "sealos_state_metric_collector_") ||
			strings.HasPrefix(name, "prometheus_state_exporter_"), "unexpected series %s", name)
	}

	// Same series names and labels as the contrib exporter (values move with each collection,
	// so compare the stable node series' values and the set of series).
	contrib, err := otelcoltest.Scrape(contribURL)
	require.NoError(t, err)
	state, err := otelcoltest.Scrape(stateURL)
	require.NoError(t, err)
	for name := range state {
		if strings.HasPrefix(name, "prometheus_state_exporter_") {
			delete(state, name)
		}
	}
	assert.Equal(t, keys(contrib), keys(state))
	assert.Equal(t, series.WithPrefix(contrib, "sealos_node_"), series.WithPrefix(state, "sealos_node_"))
}

func keys(m map[string]float64) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
