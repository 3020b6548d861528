package userbalancereceiver

import (
	"github.com/labring/otelcol-sealos/test/configtest"
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
	assert.Equal(t, 5*time.Minute, cfg.CollectionInterval)
	assert.Equal(t, 10*time.Second, cfg.QueryTimeout)
	assert.Nil(t, cfg.K8sLeaderElector)
	assert.Equal(t, []User{{Region: "hzh", UUID: "9b1c", UID: "ops-main", Owner: "ops", Type: "main", Level: "P0"}}, cfg.Users)
	assert.True(t, cfg.Metrics.UserbalanceBalance.Enabled)
	assert.True(t, cfg.Metrics.UserbalanceQuota.Enabled)
	assert.True(t, cfg.Metrics.UserbalanceUnreportedUsers.Enabled)
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("k8s_leader_elector", "cluster")
	quota := 1000.0
	want := createDefaultConfig().(*Config)
	want.CollectionInterval = time.Minute
	want.QueryTimeout = 3 * time.Second
	want.K8sLeaderElector = &elector
	want.DSNSecret = &SecretRef{Namespace: "sealos", Name: "billing-db", Key: "dsn"}
	want.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: "/etc/kube/config", QPS: 20, Burst: 40}
	// The same uid in two regions is two users; type quota is an ordinary label now.
	want.Users = []User{
		{Region: "hzh", UUID: "9b1c", UID: "ops-main", Owner: "ops", Type: "main", Level: "P0", Quota: &quota},
		{Region: "bja", UUID: "9b1c", UID: "ops-main", Owner: "ops", Type: "quota", Level: "P1"},
	}
	want.MetricsBuilderConfig = cfg.MetricsBuilderConfig // carries unexported "set by user" flags
	assert.Equal(t, want, cfg)
}

func TestLoadConfigEnv(t *testing.T) {
	cfg := loadConfig(t, "env")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, "BILLING_DSN", cfg.DSNEnv)
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"no_dsn":     {"dsn, dsn_env, dsn_secret: set exactly one, got 0"},
		"two_dsns":   {"dsn, dsn_env, dsn_secret: set exactly one, got 2"},
		"bad_dsn":    {"dsn: not a valid PostgreSQL connection string"},
		"bad_secret": {"dsn_secret.namespace: must be set", "dsn_secret.key: must be set"},
		"bad_users": {
			"collection_interval: must be positive", "query_timeout: must be positive",
			`users[1]: uid "ops-main" in region "hzh" is already configured by users[0]`,
			"users[2].uid: must be set",
		},
		"no_users": {"users: at least one user must be configured"},
	}
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			err := xconfmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			for _, want := range wants {
				assert.ErrorContains(t, err, want)
			}
			assert.NotContains(t, err.Error(), "s3cret", "the DSN leaked into a config error")
		})
	}
}
