package k8srbacauthextension

import (
	"github.com/labring/otelcol-sealos/test/configtest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
)

func loadConfig(t *testing.T, name string) *Config {
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, createDefaultConfig(), cfg)
	assert.Equal(t, "/metrics", cfg.Path)
	assert.Equal(t, "get", cfg.Verb)
	assert.Greater(t, cfg.AllowedTTL, cfg.DeniedTTL, "allowed answers are remembered longer than denied ones")
	assert.True(t, cfg.JWTOnly)
	assert.Equal(t, 4, cfg.MaxConcurrentReviews)
}

func TestConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, k8sconfig.AuthTypeKubeConfig, cfg.AuthType)
	assert.Equal(t, "/etc/otel/kubeconfig", cfg.KubeConfigPath)
	assert.Equal(t, "/federate", cfg.Path)
	assert.Equal(t, []string{"metrics"}, cfg.Audiences)
	assert.Equal(t, 2*time.Minute, cfg.AllowedTTL)
	assert.Equal(t, 5*time.Second, cfg.DeniedTTL)
	assert.Equal(t, 10, cfg.CacheSize)
	assert.Equal(t, 3*time.Second, cfg.Timeout)
	assert.Equal(t, 8, cfg.MaxConcurrentReviews)
	assert.False(t, cfg.JWTOnly)
}

func TestConfigInvalidNamesEveryKey(t *testing.T) {
	err := xconfmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, key := range []string{"path:", "verb:", "allowed_ttl:", "denied_ttl:", "cache_size:", "timeout:", "max_concurrent_reviews:"} {
		assert.Contains(t, err.Error(), key)
	}
}
