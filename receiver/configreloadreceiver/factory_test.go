package configreloadreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/xconfmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/confmap/provider/watchfileprovider"
	"github.com/labring/otelcol-sealos/receiver/configreloadreceiver/internal/metadata"
)

func TestScrapeReportsTheProviderCounters(t *testing.T) {
	mb := metadata.NewMetricsBuilder(metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type))
	success := time.Unix(1_800_000_000, 500_000_000)
	md := scrape(mb, watchfileprovider.Stats{Failures: 3, LastSuccess: success, Since: success.Add(-time.Hour)}, success.Add(time.Minute))
	got := metricsByName(md)
	require.Len(t, got, 2)
	failures := got["config.reload_failures"]
	assert.True(t, failures.Sum().IsMonotonic())
	assert.Equal(t, int64(3), failures.Sum().DataPoints().At(0).IntValue())
	assert.Equal(t, "{failure}", failures.Unit())
	last := got["config.last_reload_success_timestamp"]
	assert.Equal(t, "s", last.Unit())
	assert.InDelta(t, 1_800_000_000.5, last.Gauge().DataPoints().At(0).DoubleValue(), 1e-3)
}

func TestNoTimestampBeforeTheFirstLoad(t *testing.T) {
	mb := metadata.NewMetricsBuilder(metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type))
	got := metricsByName(scrape(mb, watchfileprovider.Stats{}, time.Now()))
	assert.Contains(t, got, "config.reload_failures")
	assert.NotContains(t, got, "config.last_reload_success_timestamp")
}

func TestReceiverEmits(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 10 * time.Millisecond
	sink := &consumertest.MetricsSink{}
	r, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return sink.DataPointCount() > 0 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Contains(t, metricsByName(sink.AllMetrics()[0]), "config.reload_failures")
}

func TestConfigValidate(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	cfg.CollectionInterval = 0
	// Through the collector's config walker, as a config file is checked: reported once.
	require.EqualError(t, xconfmap.Validate(cfg), "collection_interval: must be positive, got 0s")
}

func metricsByName(md pmetric.Metrics) map[string]pmetric.Metric {
	out := map[string]pmetric.Metric{}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				out[ms.At(k).Name()] = ms.At(k)
			}
		}
	}
	return out
}
