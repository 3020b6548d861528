package domainreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

// NewFactory creates the factory of the domain receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	shared := statereceiver.NewDefaultConfig(time.Minute)
	shared.Timeout = 30 * time.Second
	return &Config{
		Config:               shared,
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		DialRetries:          3,
		IncludeCertCheck:     true,
		IncludeHTTPCheck:     true,
		IPv4:                 true,
		IPv6:                 true,
		MaxConcurrentChecks:  64,
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	// `timeout` bounds each check; the cycle as a whole takes as long as its bounded checks need.
	shared := c.Config
	shared.Timeout = 0
	return statereceiver.NewMetrics(set, &shared, next, newDomainSource(c, set))
}
