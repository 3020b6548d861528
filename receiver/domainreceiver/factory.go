package domainreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

// NewFactory creates the factory of the domain receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	controller := scraperhelper.NewDefaultControllerConfig()
	controller.CollectionInterval = time.Minute
	controller.Timeout = 30 * time.Second
	return &Config{
		ControllerConfig:     controller,
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
	controller := c.ControllerConfig
	controller.Timeout = 0
	src := newDomainSource(c, set)
	r, err := statereceiver.NewMetrics(set, statereceiver.Options{Controller: &controller, Elector: c.K8sLeaderElector}, next, src)
	if err != nil {
		return nil, err
	}
	return &cancelFirst{Metrics: r, cancel: src.stop}, nil
}

// cancelFirst aborts the checks in flight before shutting down: the controller waits for the
// running cycle, which could otherwise last up to timeout per queued check.
type cancelFirst struct {
	receiver.Metrics
	cancel context.CancelFunc
}

func (c *cancelFirst) Shutdown(ctx context.Context) error {
	c.cancel()
	return c.Metrics.Shutdown(ctx)
}
