package userbalancereceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/userbalancereceiver/internal/metadata"
)

// NewFactory creates the factory of the userbalance receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Config:               statereceiver.NewDefaultConfig(5 * time.Minute), // the predecessor's checkInterval
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		APIConfig:            k8sconfig.NewDefaultAPIConfig(),
		QueryTimeout:         10 * time.Second,
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	return statereceiver.NewMetrics(set, &c.Config, next, newBalanceSource(c, set))
}
