package imagepullreceiver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
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

// eachPoint calls f for every gauge, sum and histogram point of md.
func eachPoint(md pmetric.Metrics, f func(m pmetric.Metric, attrs pcommon.Map, flags pmetric.DataPointFlags, value float64)) {
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						f(m, dp.Attributes(), dp.Flags(), float64(dp.Count()))
					}
					continue
				default:
					continue
				}
				for _, dp := range dps.All() {
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					f(m, dp.Attributes(), dp.Flags(), v)
				}
			}
		}
	}
}

// liveSeries is md's image.* series, staleness markers left out; a histogram counts its
// observations.
func liveSeries(md pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	eachPoint(md, func(m pmetric.Metric, attrs pcommon.Map, flags pmetric.DataPointFlags, v float64) {
		if !flags.NoRecordedValue() && strings.HasPrefix(m.Name(), "image.") {
			out[series.Key(m.Name(), attrs)] = v
		}
	})
	return out
}

// markedStale lists the series md flags as no longer present.
func markedStale(md pmetric.Metrics) []string {
	var out []string
	eachPoint(md, func(m pmetric.Metric, attrs pcommon.Map, flags pmetric.DataPointFlags, _ float64) {
		if flags.NoRecordedValue() {
			out = append(out, series.Key(m.Name(), attrs))
		}
	})
	return out
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
