package cockroachlicensereceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/secretref"
	"github.com/labring/otelcol-sealos/test/configtest"
)

func loadConfig(t *testing.T, name string) *Config {
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, 5*time.Minute, cfg.CollectionInterval)
	assert.Equal(t, 10*time.Second, cfg.CheckTimeout)
	assert.Equal(t, 8, cfg.MaxConcurrentChecks)
	assert.Equal(t, k8sconfig.AuthTypeServiceAccount, cfg.AuthType)
	assert.False(t, cfg.usesSecrets())
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("leader_election", "cluster")
	assert.Equal(t, &elector, cfg.K8sLeaderElector)
	assert.Equal(t, 10*time.Minute, cfg.CollectionInterval)
	assert.Equal(t, 3*time.Second, cfg.CheckTimeout)
	assert.Equal(t, 2, cfg.MaxConcurrentChecks)
	assert.Equal(t, k8sconfig.AuthTypeKubeConfig, cfg.AuthType)
	assert.Equal(t, &secretref.Ref{Namespace: "db", Name: "crdb-monitor", Key: "dsn"}, cfg.Clusters[1].DSNSecret)
	assert.True(t, cfg.usesSecrets())
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"bad": {
			`auth_type: "token" is not one of`,
			"check_timeout: must be positive", "max_concurrent_checks: must be at least 1",
			"clusters[0].name: must be set", "clusters[0].dsn: not a valid PostgreSQL connection string",
			"clusters[1]: set exactly one of dsn and dsn_secret",
			`clusters[2].name: "twice" is already the name of clusters[1]`, "clusters[2]: set exactly one of dsn and dsn_secret",
			"clusters[3].dsn_secret.namespace: must be set", "clusters[3].dsn_secret.key: must be set",
		},
		"empty": {"clusters: at least one cluster is required"},
	}
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			err := xconfmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			for _, want := range wants {
				assert.ErrorContains(t, err, want)
			}
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}
