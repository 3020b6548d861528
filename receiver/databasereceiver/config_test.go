package databasereceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap/xconfmap"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/receiver/databasereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/configtest"
	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/series"
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

// A password reaches neither the config as printed or marshalled (logs, print-config), nor the
// logs of failing checks at debug level (a wrong password on a real server, a refused port, a TLS
// setting that cannot be used), nor the metrics.
func TestPasswordNeverPrinted(t *testing.T) {
	const marker = "pw-marker-4f1c"
	pg := dbtest.ConnectPostgres(t).CreateAccount(t, "leak", "right")
	cfg := targetsConfig(
		TargetConfig{Name: "wrong", Engine: enginePostgreSQL, Endpoint: dbtest.PostgresAddr, Username: pg.User, Password: marker, Database: pg.Database},
		TargetConfig{Name: "refused", Engine: engineMySQL, Endpoint: "127.0.0.1:" + strconv.Itoa(dbtest.ClosedPort(t)), Username: "u", Password: marker},
	)
	printed, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(printed)+fmt.Sprintf("%v %+v", cfg, cfg.Targets), marker)

	core, logs := observer.New(zapcore.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	s := newDatabaseSource(cfg, set)
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	md, err := s.Collect(context.Background())
	require.NoError(t, err)
	got := series.Of(md)
	require.Equal(t, 0.0, got[`database.connectivity{database="wrong",error_type="auth_failed",namespace="",type="postgresql"}`], "%v", got)
	require.NotEmpty(t, logs.FilterMessage("database check failed").All(), "the failures were logged")
	for _, e := range logs.All() {
		assert.NotContains(t, e.Message, marker)
		for k, v := range e.ContextMap() {
			assert.NotContains(t, fmt.Sprint(k, "=", v), marker, "logged: %s", e.Message)
		}
	}
	for k := range got {
		assert.NotContains(t, k, marker)
	}

	_, err = staticTargets(context.Background(), []TargetConfig{{Name: "tls", Engine: engineRedis, Endpoint: dbtest.RedisAddr, Password: marker,
		TLS: &configtls.ClientConfig{Config: configtls.Config{CAFile: "/nonexistent/ca.pem"}}}})
	require.ErrorContains(t, err, "targets[0].tls")
	assert.NotContains(t, err.Error(), marker)
}
