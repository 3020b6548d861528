package zombiereceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/hostnode"
	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/zombiereceiver/internal/metadata"
)

// NewFactory creates the factory of the zombie receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Config:               statereceiver.NewDefaultConfig(30 * time.Second),
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		APIConfig:            k8sconfig.NewDefaultAPIConfig(),
		NodeName:             hostnode.NameFromEnv(),
		SyncTimeout:          5 * time.Second,
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	return statereceiver.NewMetrics(set, &c.Config, next, newZombieSource(c, set))
}
