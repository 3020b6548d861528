package databasereceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/databasereceiver/internal/metadata"
)

// NewFactory creates the factory of the database receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

// defaultAccounts are the component names and system accounts of the KubeBlocks 1.x addons Sealos runs.
func defaultAccounts() map[string]AccountConfig {
	return map[string]AccountConfig{
		"postgresql": {Engine: enginePostgreSQL, Account: "postgres"},
		"mysql":      {Engine: engineMySQL, Account: "root"},
		"mongodb":    {Engine: engineMongoDB, Account: "root"},
		"redis":      {Engine: engineRedis, Account: "default"},
	}
}

func createDefaultConfig() component.Config {
	return &Config{
		Config:               statereceiver.NewDefaultConfig(5 * time.Minute),
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		APIConfig:            k8sconfig.NewDefaultAPIConfig(),
		Discover:             true,
		Accounts:             defaultAccounts(),
		SyncTimeout:          30 * time.Second,
		CheckTimeout:         10 * time.Second,
		Concurrency:          ConcurrencyConfig{MySQL: 50, PostgreSQL: 50, MongoDB: 50, Redis: 100},
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	return statereceiver.NewMetrics(set, &c.Config, next, newDatabaseSource(c, set))
}
