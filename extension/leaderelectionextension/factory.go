package leaderelectionextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/labring/otelcol-sealos/extension/leaderelectionextension/internal/metadata"
	"github.com/labring/otelcol-sealos/internal/k8sconfig"
)

// NewFactory creates the factory of the leader_election extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{
		APIConfig:      k8sconfig.NewDefaultAPIConfig(),
		LeaseNamespace: defaultNamespace(),
		LeaseDuration:  15 * time.Second,
		RenewDeadline:  10 * time.Second,
		RetryPeriod:    2 * time.Second,
	}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newElector(cfg.(*Config), set, defaultIdentity()), nil
}
