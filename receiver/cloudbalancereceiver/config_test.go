package cloudbalancereceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
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
	assert.Equal(t, 5*time.Minute, cfg.CollectionInterval)
	assert.Equal(t, time.Second, cfg.InitialDelay)
	assert.Equal(t, 15*time.Second, cfg.QueryTimeout)
	assert.Equal(t, 4, cfg.MaxConcurrentQueries)
	assert.Equal(t, 3, cfg.ThrottleRetries)
	assert.Equal(t, time.Second, cfg.ThrottleBackoff)
	assert.Nil(t, cfg.K8sLeaderElector)
	assert.Equal(t, []Account{{Provider: "alicloud", AccountID: "1234567890", AccessKeyID: "LTAI-inline", AccessKeySecret: "inline-s3cret"}}, cfg.Accounts)
	assert.True(t, cfg.Metrics.CloudbalanceBalance.Enabled)
	assert.True(t, cfg.Metrics.CloudbalanceQuerySuccess.Enabled)
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("k8s_leader_elector", "cluster")
	want := createDefaultConfig().(*Config)
	want.CollectionInterval = 10 * time.Minute
	want.Timeout = time.Minute
	want.K8sLeaderElector = &elector
	want.QueryTimeout = 20 * time.Second
	want.MaxConcurrentQueries = 2
	want.ThrottleRetries = 5
	want.ThrottleBackoff = 2 * time.Second
	want.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: "/etc/kube/config", QPS: 20, Burst: 40}
	want.Accounts = []Account{
		{Provider: "alicloud", AccountID: "1234567890", Region: "cn-shanghai", AccessKeyID: "LTAI-inline", AccessKeySecret: "inline-s3cret"},
		{Provider: "tencentcloud", AccountID: "100012345678", Region: "ap-guangzhou", AccessKeyIDEnv: "TENCENT_SECRET_ID", AccessKeySecretEnv: "TENCENT_SECRET_KEY"},
		{
			Provider: "volcengine", AccountID: "2100000001", Endpoint: "billing.internal.example:8443",
			TLS:               configtls.ClientConfig{Config: configtls.Config{CAFile: "/etc/ssl/private-ca.pem"}},
			CredentialsSecret: &SecretRef{Namespace: "sealos", Name: "volcengine-billing", AccessKeyIDKey: "ak", AccessKeySecretKey: "sk"},
		},
	}
	want.MetricsBuilderConfig = cfg.MetricsBuilderConfig // carries unexported "set by user" flags
	assert.Equal(t, want, cfg)
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"bad_accounts": {
			"query_timeout: must be positive",
			"max_concurrent_queries: must be at least 1",
			"throttle_retries: must not be negative",
			`accounts[0].provider: "aws" is not one of alicloud, tencentcloud, volcengine`,
			"accounts[1].account_id: must be set",
			"accounts[1]: access_key_id and access_key_secret must both be set",
			"accounts[2]: set exactly one credential source (access_key_id + access_key_secret, access_key_id_env + access_key_secret_env, or credentials_secret), got 2",
			`accounts[3]: provider tencentcloud account_id "100" is already configured by accounts[2]`,
			`accounts[3].endpoint: "https://billing.tencentcloudapi.com/" must be a host or host:port`,
			"accounts[3]: access_key_id_env and access_key_secret_env must both be set",
			"accounts[4].credentials_secret.namespace: must be set",
			"accounts[4].credentials_secret.name: must be set",
			`accounts[4].credentials_secret: access_key_id_key and access_key_secret_key must differ, both are "key"`,
		},
		"no_accounts": {"accounts: at least one account must be configured"},
		"no_backoff":  {"throttle_backoff: must be positive when throttle_retries is set"},
	}
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			err := xconfmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			for _, want := range wants {
				assert.ErrorContains(t, err, want)
			}
			assert.NotContains(t, err.Error(), "s3cret", "a secret leaked into a config error")
		})
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, ok := range []string{"", "business.aliyuncs.com", "10.0.0.5:8443", "[::1]:443"} {
		assert.NoError(t, checkEndpoint(ok), ok)
	}
	for _, bad := range []string{"https://business.aliyuncs.com", "host/path", "host:", "user@host", "a:b:c"} {
		assert.Error(t, checkEndpoint(bad), bad)
	}
}
