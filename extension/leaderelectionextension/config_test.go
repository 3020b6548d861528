package leaderelectionextension

import (
	"github.com/labring/otelcol-sealos/test/configtest"
	"os"
	"path/filepath"
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

func TestLoadConfigDefaults(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "otelcol-sealos")
	cfg := loadConfig(t, "")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, &Config{
		APIConfig:      k8sconfig.NewDefaultAPIConfig(),
		LeaseNamespace: "otelcol-sealos",
		LeaseDuration:  15 * time.Second,
		RenewDeadline:  10 * time.Second,
		RetryPeriod:    2 * time.Second,
	}, cfg)
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	want := createDefaultConfig().(*Config)
	want.AuthType = k8sconfig.AuthTypeKubeConfig
	want.KubeConfigPath = "/etc/kube/config"
	want.LeaseName = "sealos-node"
	want.LeaseNamespace = "monitoring"
	want.LeaseDuration, want.RenewDeadline, want.RetryPeriod = 30*time.Second, 20*time.Second, 4*time.Second
	assert.Equal(t, want, cfg)
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"bad_durations":    {"renew_deadline: must be less than lease_duration (10s), got 10s", "retry_period: must be less than renew_deadline / 1.2"},
		"not_positive":     {"lease_duration: must be positive", "renew_deadline: must be positive", "retry_period: must be positive"},
		"fractional_lease": {"lease_duration: must be a whole number of seconds"},
		"bad_names":        {`lease_name: "Sealos_Node"`, "lease_namespace: must not be empty"},
		"bad_auth":         {`auth_type: "token" is not one of`},
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

func TestDefaultNamespace(t *testing.T) {
	saFile := filepath.Join(t.TempDir(), "namespace")
	old := serviceAccountNamespaceFile
	serviceAccountNamespaceFile = saFile
	t.Cleanup(func() { serviceAccountNamespaceFile = old })

	t.Setenv("POD_NAMESPACE", "")
	assert.Equal(t, "default", defaultNamespace(), "no env, no service account: default")

	require.NoError(t, os.WriteFile(saFile, []byte("from-sa\n"), 0o600))
	assert.Equal(t, "from-sa", defaultNamespace(), "the service account's namespace file")

	t.Setenv("POD_NAMESPACE", "from-env")
	assert.Equal(t, "from-env", defaultNamespace(), "POD_NAMESPACE wins")
}
