package statusextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"

	"github.com/labring/otelcol-sealos/extension/statusextension/internal/metadata"
)

// defaultEndpoint is next to health_check's 13133; deployments set 0.0.0.0 for kubelet probes.
const defaultEndpoint = "localhost:13134"

// NewFactory creates the factory of the status extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	return &Config{ServerConfig: server}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newStatus(cfg.(*Config), set), nil
}
