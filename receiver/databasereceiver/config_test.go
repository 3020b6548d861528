package databasereceiver

import (
	"github.com/labring/otelcol-sealos/test/configtest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
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
	assert.Equal(t, 10*time.Second, cfg.CheckTimeout)
	assert.Equal(t, ConcurrencyConfig{MySQL: 50, PostgreSQL: 50, MongoDB: 50, Redis: 100}, cfg.Concurrency)
	assert.True(t, cfg.Discover)
	assert.False(t, cfg.Preflight)
	assert.Empty(t, cfg.Namespaces)
	assert.Equal(t, defaultAccounts(), cfg.Accounts)
	assert.Nil(t, cfg.TLS)
	assert.Equal(t, k8sconfig.AuthTypeServiceAccount, cfg.AuthType)
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("k8s_leader_elector", "cluster")
	want := createDefaultConfig().(*Config)
	want.CollectionInterval = time.Minute
	want.AuthType, want.KubeConfigPath = k8sconfig.AuthTypeKubeConfig, "/etc/kube/config"
	want.K8sLeaderElector = &elector
	want.Namespaces = []string{"ns-a", "ns-b"}
	want.Preflight = true
	want.CheckTimeout, want.SyncTimeout = 3*time.Second, 20*time.Second
	want.Concurrency = ConcurrencyConfig{MySQL: 5, PostgreSQL: 50, MongoDB: 50, Redis: 7}
	want.Accounts["pg"] = AccountConfig{Engine: enginePostgreSQL, Account: "admin"} // added to the defaults
	want.TLS = &configtls.ClientConfig{InsecureSkipVerify: true}
	want.Targets = []TargetConfig{{
		Name: "orders", Namespace: "external", Engine: enginePostgreSQL, Endpoint: "db.example.com:5432",
		Username: "monitor", Password: "p@ss:w/rd", Database: "orders",
		TLS: &configtls.ClientConfig{ServerName: "db.example.com"},
	}}
	want.MetricsBuilderConfig = cfg.MetricsBuilderConfig
	assert.Equal(t, want, cfg)
}

func TestLoadConfigTargetsOnly(t *testing.T) {
	cfg := loadConfig(t, "targets_only")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.False(t, cfg.Discover)
	assert.Len(t, cfg.Targets, 1)
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"bad": {
			"collection_interval: must be positive", "check_timeout: must be positive", "sync_timeout: must be positive",
			"namespaces[0]: must not be empty", "concurrency.mongodb: must be positive, got 0",
			`accounts.pg.engine: "oracle" is not one of`, "accounts.pg.account: must not be empty",
			`targets[0].engine: "mssql" is not one of`, `targets[0].endpoint: want host:port, got "db"`,
			`targets[2]: duplicate name "b" for engine "redis"`,
		},
		"nothing_to_check": {"targets: must not be empty when discover is false"},
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

func TestPasswordNeverPrinted(t *testing.T) {
	cfg := loadConfig(t, "custom")
	assert.NotContains(t, cfg.Targets[0].Password.String(), "p@ss")
}
