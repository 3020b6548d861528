package nodereceiver

import (
	"github.com/labring/otelcol-sealos/test/configtest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
)

func loadConfig(t *testing.T, name string) *Config {
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 30*time.Minute, cfg.IgnoreNewNodeDuration)
	assert.Equal(t, k8sconfig.AuthTypeServiceAccount, cfg.AuthType)
	assert.Nil(t, cfg.K8sLeaderElector)
	assert.False(t, cfg.ReportAllConditions)
	assert.True(t, cfg.Metrics.NodeHealthy.Enabled)
	assert.True(t, cfg.Metrics.NodeCondition.Enabled)
	assert.False(t, cfg.Metrics.NodeKubeletMetricsAvailable.Enabled)
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("k8s_leader_elector", "cluster")
	want := createDefaultConfig().(*Config)
	want.CollectionInterval = time.Minute
	want.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: "/etc/kube/config", Context: "prod", QPS: 5, Burst: 10}
	want.K8sLeaderElector = &elector
	want.IgnoreNewNodeDuration = 10 * time.Minute
	want.ReportAllConditions = true
	want.SyncTimeout = 20 * time.Second
	assert.True(t, cfg.Metrics.NodeKubeletMetricsAvailable.Enabled)
	want.MetricsBuilderConfig = cfg.MetricsBuilderConfig // carries unexported "set by user" flags
	assert.Equal(t, want, cfg)
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"bad_auth":                   {`auth_type: "token" is not one of`},
		"bad_durations":              {"collection_interval: must be positive", "ignore_new_node_duration: must not be negative", "sync_timeout: must be positive"},
		"context_without_kubeconfig": {`kubeconfig_path and context need auth_type "kubeConfig"`},
	}
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			err := xconfmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			for _, want := range wants {
				assert.Equal(t, 1, strings.Count(err.Error(), want), "each mistake is reported once, in %q", err)
			}
		})
	}
}
