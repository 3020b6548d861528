package registryproxyreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/registryproxyreceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/registrytest"
)

// The receiver as the collector runs it: a cycle at start, the registry's series and the
// framework's self-metrics reach the pipeline.
func TestReceiverEmitsThroughThePipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry")
	}
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.PushT(t, "library/app", "v1")
	cfg := createDefaultConfig().(*Config)
	cfg.InitialDelay = 0
	cfg.CollectionInterval = time.Hour
	cfg.Registries = []Registry{{Endpoint: reg.URL, Repository: "library/app", Reference: "v1"}}
	sink := new(consumertest.MetricsSink)
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 10*time.Second, 20*time.Millisecond)
	got := map[string]float64{}
	md := sink.AllMetrics()[0]
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				if m.Type() != pmetric.MetricTypeGauge {
					continue
				}
				dps := m.Gauge().DataPoints()
				for l := range dps.Len() {
					key := m.Name()
					if v, ok := dps.At(l).Attributes().Get("type"); ok {
						key += "/" + v.Str()
					}
					if v, ok := dps.At(l).Attributes().Get("check_type"); ok {
						key += "/" + v.Str()
					}
					got[key] = float64(dps.At(l).IntValue()) + dps.At(l).DoubleValue()
				}
			}
		}
	}
	assert.Equal(t, 1.0, got["registry_proxy.health/healthy_ips"])
	assert.Equal(t, 1.0, got["registry_proxy.status/api"])
	assert.Equal(t, 1.0, got["registry_proxy.status/manifest"])
	assert.Equal(t, 1.0, got["state_metric.collector.success"])
}

// A CA file that cannot be read is a configuration fault a restart cannot fix: Start fails, naming it.
func TestStartFailsOnUnreadableCAFile(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Registries = []Registry{{Endpoint: "https://registry.example:5000", Repository: "library/app", Reference: "v1",
		TLS: configtls.ClientConfig{Config: configtls.Config{CAFile: "/nonexistent/ca.pem"}}}}
	s := newRegistrySource(cfg, receivertest.NewNopSettings(metadata.Type))
	err := s.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "registries[0].tls:")
	assert.ErrorContains(t, err, "/nonexistent/ca.pem")
}
