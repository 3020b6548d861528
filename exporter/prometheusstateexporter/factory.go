package prometheusstateexporter

import (
	"context"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/resourcetotelemetry"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/labring/otelcol-sealos/exporter/prometheusstateexporter/internal/metadata"
)

// NewFactory creates the prometheus_state exporter factory.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithMetrics(createMetrics, metadata.MetricsStability))
}

// Defaults as the contrib prometheus exporter's.
func createDefaultConfig() component.Config {
	return &Config{
		ServerConfig:      confighttp.NewDefaultServerConfig(),
		ConstLabels:       map[string]string{},
		MetricExpiration:  5 * time.Minute,
		AddMetricSuffixes: true,
	}
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	c := cfg.(*Config)
	e := newStateExporter(c, set.TelemetrySettings)
	exp, err := exporterhelper.NewMetrics(ctx, set, cfg, e.consume,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		// Data is only read: the pipeline need not copy it for us.
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}))
	if err != nil {
		return nil, err
	}
	return resourcetotelemetry.WrapMetricsExporter(c.ResourceToTelemetrySettings, exp), nil
}
