package cockroachlicensereceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/cockroachlicensereceiver/internal/metadata"
)

// NewFactory creates the factory of the cockroachlicense receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Config:               statereceiver.NewDefaultConfig(5 * time.Minute),
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		APIConfig:            k8sconfig.NewDefaultAPIConfig(),
		CheckTimeout:         10 * time.Second,
		MaxConcurrentChecks:  8,
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	return statereceiver.NewMetrics(set, &c.Config, next, newLicenseSource(c, set))
}
