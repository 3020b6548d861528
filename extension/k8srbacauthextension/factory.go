// Package k8srbacauthextension protects collector HTTP endpoints (the Prometheus exporter's
// /metrics) with Kubernetes authentication and RBAC: TokenReview, then SubjectAccessReview.
package k8srbacauthextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/labring/otelcol-sealos/extension/k8srbacauthextension/internal/metadata"
)

// NewFactory returns the k8s_rbac_auth extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		metadata.Type,
		func() component.Config { return createDefaultConfig() },
		func(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
			return newRBACAuth(cfg.(*Config), set), nil
		},
		metadata.ExtensionStability,
	)
}
