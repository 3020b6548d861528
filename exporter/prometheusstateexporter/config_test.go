package prometheusstateexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/labring/otelcol-sealos/exporter/prometheusstateexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	id := component.NewIDWithName(metadata.Type, name)
	if name == "" {
		id = component.NewID(metadata.Type)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg, xconfmap.Validate(cfg)
}

func TestConfigDefaultsAsContrib(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9464", cfg.NetAddr.Endpoint)
	require.Equal(t, 5*time.Minute, cfg.MetricExpiration)
	require.False(t, cfg.WithoutScopeInfo, "contrib adds scope labels by default")
	require.True(t, cfg.AddMetricSuffixes)
	require.True(t, withSuffixes(cfg))
}

func TestConfigCustom(t *testing.T) {
	cfg, err := loadConfig(t, "custom")
	require.NoError(t, err)
	require.Equal(t, "sealos", cfg.Namespace)
	require.Equal(t, map[string]string{"cluster": "c1"}, cfg.ConstLabels)
	require.Equal(t, 10*time.Minute, cfg.MetricExpiration)
	require.True(t, cfg.ResourceToTelemetrySettings.Enabled)
	require.True(t, cfg.WithoutScopeInfo)
	require.True(t, cfg.SendTimestamps)
	require.False(t, withSuffixes(cfg))
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	_, err := loadConfig(t, "openmetrics")
	require.ErrorContains(t, err, "enable_open_metrics:")
	_, err = loadConfig(t, "utf8")
	require.ErrorContains(t, err, "translation_strategy: NoTranslation")
	_, err = loadConfig(t, "bad")
	require.ErrorContains(t, err, "endpoint: must not be empty")
	require.ErrorContains(t, err, "metric_expiration: must be at least 1s, got 0s")
	require.ErrorContains(t, err, `const_labels: invalid label name "__reserved"`)
	require.ErrorContains(t, err, `const_labels: invalid label name "bad-name"`)
	// A bare number decodes as nanoseconds (a ticker that spins a core): refused, with the fix.
	_, err = loadConfig(t, "unitless")
	require.EqualError(t, err, "metric_expiration: must be at least 1s, got 300ns; a number without a unit is nanoseconds: use a unit, e.g. 300s")
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"identity":               false,
		"deflate, gzip;q=0.8":    true,
		"GZIP":                   true,
		"gzip;q=0":               false,
		"gzip; q=0.0, identity":  false,
		"br;q=1.0, gzip ; q=0.5": true,
	} {
		require.Equal(t, want, acceptsGzip(header), header)
	}
}
