package lvmreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/hostnode"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/lvmreceiver/internal/metadata"
)

// NewFactory creates the factory of the lvm receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Config:               statereceiver.NewDefaultConfig(30 * time.Second),
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		NodeName:             hostnode.NameFromEnv(),
		VGSPath:              "vgs",
		LVSPath:              "lvs",
		CommandTimeout:       10 * time.Second,
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	return statereceiver.NewMetrics(set, &c.Config, next, newLVMSource(c, set))
}
