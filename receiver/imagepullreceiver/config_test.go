package imagepullreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/test/configtest"
)

func loadConfig(t *testing.T, name string) *Config {
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 5*time.Minute, cfg.SlowPullThreshold)
	assert.Equal(t, k8sconfig.AuthTypeServiceAccount, cfg.AuthType)
	assert.Empty(t, cfg.Registries.Include)
	assert.Empty(t, cfg.Registries.Exclude)
	assert.True(t, cfg.DurationHistogram.Enabled)
	assert.Equal(t, 500*time.Millisecond, cfg.DurationHistogram.Buckets[0])
	assert.Equal(t, 30*time.Minute, cfg.DurationHistogram.Buckets[len(cfg.DurationHistogram.Buckets)-1])
	assert.True(t, cfg.watchesPods())
	assert.True(t, cfg.watchesEvents())
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("leader_election", "cluster")
	want := createDefaultConfig().(*Config)
	want.CollectionInterval = time.Minute
	want.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: "/etc/kube/config", QPS: 20, Burst: 40}
	want.K8sLeaderElector = &elector
	want.SlowPullThreshold = 10 * time.Minute
	want.SyncTimeout = 20 * time.Second
	want.Registries = RegistryFilter{Include: []string{"*.aliyuncs.com", "docker.io", "registry.example.com:5000"}, Exclude: []string{"*.internal"}}
	want.DurationHistogram.Buckets = []time.Duration{time.Second, 10 * time.Second, time.Minute}
	assert.False(t, cfg.Metrics.ImagePullBytes.Enabled)
	want.MetricsBuilderConfig = cfg.MetricsBuilderConfig // carries unexported "set by user" flags
	assert.Equal(t, want, cfg)
}

func TestHistogramOff(t *testing.T) {
	cfg := loadConfig(t, "no_histogram")
	require.NoError(t, xconfmap.Validate(cfg), "no buckets are needed without the histogram")
	assert.False(t, cfg.DurationHistogram.Enabled)
	cfg.Metrics.ImagePulls.Enabled = false
	cfg.Metrics.ImagePullBytes.Enabled = false
	assert.True(t, cfg.watchesEvents(), "slow pulls still read Pulling events")
	cfg.Metrics.ImagePullSlow.Enabled = false
	assert.False(t, cfg.watchesEvents())
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"bad_durations": {"collection_interval: must be positive", "slow_pull_threshold: must be positive, got -1s", "sync_timeout: must be positive"},
		"bad_patterns": {
			`registries.include[0]: "[docker.io" is not a valid glob`,
			"registries.include[1]: empty pattern",
			`registries.exclude[1]: "bad\\" is not a valid glob`,
		},
		"bad_buckets":   {"duration_histogram.buckets[2]: must be positive, got -1s", "duration_histogram.buckets: must be strictly increasing"},
		"empty_buckets": {"duration_histogram.buckets: must list at least one bound"},
	}
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			err := xconfmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			for _, want := range wants {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}
