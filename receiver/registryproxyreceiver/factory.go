package registryproxyreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/registryproxyreceiver/internal/metadata"
)

// NewFactory creates the factory of the registryproxy receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Config:               statereceiver.NewDefaultConfig(time.Minute),
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		CheckTimeout:         30 * time.Second,
		MaxConcurrentChecks:  16,
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	return statereceiver.NewMetrics(set, &c.Config, next, newRegistrySource(c, set))
}
