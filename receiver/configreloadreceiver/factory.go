package configreloadreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/labring/otelcol-sealos/confmap/provider/watchfileprovider"
	"github.com/labring/otelcol-sealos/receiver/configreloadreceiver/internal/metadata"
)

// NewFactory creates the factory of the config_reload receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{CollectionInterval: 30 * time.Second, MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig()}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	// The counter counts since the process started, not since this receiver (rebuilt on reload).
	since := watchfileprovider.ReadStats().Since
	mb := metadata.NewMetricsBuilder(c.MetricsBuilderConfig, set, metadata.WithStartTime(pcommon.NewTimestampFromTime(since)))
	s, err := scraper.NewMetrics(func(context.Context) (pmetric.Metrics, error) {
		return scrape(mb, watchfileprovider.ReadStats(), time.Now()), nil
	})
	if err != nil {
		return nil, err
	}
	controller := scraperhelper.NewDefaultControllerConfig()
	controller.CollectionInterval, controller.InitialDelay = c.CollectionInterval, 0
	return scraperhelper.NewMetricsController(&controller, set, next, scraperhelper.AddMetricsScraper(metadata.Type, s))
}

func scrape(mb *metadata.MetricsBuilder, st watchfileprovider.Stats, now time.Time) pmetric.Metrics {
	ts := pcommon.NewTimestampFromTime(now)
	mb.RecordConfigReloadFailuresDataPoint(ts, st.Failures)
	if !st.LastSuccess.IsZero() {
		mb.RecordConfigLastReloadSuccessTimestampDataPoint(ts, float64(st.LastSuccess.UnixNano())/1e9)
	}
	return mb.Emit()
}
