package imagepullreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/receiver/imagepullreceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
)

const waitFor = 60 * time.Second

func clusterConfig(c *k8stest.Cluster) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: c.Kubeconfig, QPS: 200, Burst: 400}
	return cfg
}

// settings names the receiver "imagepull", as a collector config would.
func settings() receiver.Settings {
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	return set
}

func startReceiver(t testing.TB, cfg *Config, host component.Host) *consumertest.MetricsSink {
	t.Helper()
	if host == nil {
		host = componenttest.NewNopHost()
	}
	sink := new(consumertest.MetricsSink)
	r, err := NewFactory().CreateMetrics(context.Background(), settings(), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return sink
}

// lastEmission is the newest batch the receiver emitted, or an empty one.
func lastEmission(sink *consumertest.MetricsSink) pmetric.Metrics {
	all := sink.AllMetrics()
	if len(all) == 0 {
		return pmetric.NewMetrics()
	}
	return all[len(all)-1]
}

// liveSeries is md's image.* series, staleness markers left out; a histogram counts its
// observations.
func liveSeries(md pmetric.Metrics) map[string]float64 {
	return series.WithPrefix(series.Of(md), "image.")
}

// waitSeries waits until the newest emission's live series satisfy ok and returns them.
func waitSeries(t testing.TB, sink *consumertest.MetricsSink, what string, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	var got map[string]float64
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		got = liveSeries(lastEmission(sink))
		if ok(got) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not seen within %s; last series: %v", what, waitFor, got)
	return nil
}

// withPrefix keeps the series whose key starts with prefix.
func withPrefix(all map[string]float64, prefix string) map[string]float64 {
	return series.WithPrefix(all, prefix)
}

func createNamespace(t testing.TB, c *k8stest.Cluster, name string) {
	t.Helper()
	_, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
}
