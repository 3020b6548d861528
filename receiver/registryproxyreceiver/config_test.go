package registryproxyreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/labring/otelcol-sealos/test/configtest"
)

func loadConfig(t *testing.T, name string) *Config {
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, time.Minute, cfg.CollectionInterval)
	assert.Equal(t, 30*time.Second, cfg.CheckTimeout)
	assert.Equal(t, 16, cfg.MaxConcurrentChecks)
	assert.Empty(t, cfg.DNSServer)
	assert.Nil(t, cfg.K8sLeaderElector)
	ep, err := parseEndpoint(cfg.Registries[0].Endpoint)
	require.NoError(t, err)
	assert.Equal(t, endpoint{scheme: "https", host: "registry.example.com", port: "443", base: "https://registry.example.com"}, ep)
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("leader_election", "registry")
	assert.Equal(t, &elector, cfg.K8sLeaderElector)
	assert.Equal(t, 2*time.Minute, cfg.CollectionInterval)
	assert.Equal(t, 5*time.Second, cfg.CheckTimeout)
	assert.Equal(t, 4, cfg.MaxConcurrentChecks)
	assert.Equal(t, "127.0.0.1:5353", cfg.DNSServer)
	r := cfg.Registries[0]
	assert.Equal(t, "library/busybox", r.repository(), "slashes are trimmed, as the predecessor did")
	assert.Equal(t, "hangzhou", r.Info)
	assert.Equal(t, "key-value", string(r.Headers["X-Registry-Key"]))
	assert.Equal(t, []string{"application/vnd.oci.image.manifest.v1+json"}, r.ManifestAccept)
	assert.Equal(t, &Auth{Username: "puller", Password: "pull-secret"}, r.Auth)
	assert.Equal(t, configtls.ClientConfig{Config: configtls.Config{CAFile: "/etc/ssl/registry-ca.pem"}}.CAFile, r.TLS.CAFile)
	ep, err := parseEndpoint(cfg.Registries[1].Endpoint)
	require.NoError(t, err)
	assert.Equal(t, endpoint{scheme: "http", host: "10.0.0.1", port: "80", base: "http://10.0.0.1"}, ep)
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := map[string][]string{
		"bad": {
			"collection_interval: must be positive",
			"check_timeout: must be positive", "max_concurrent_checks: must be at least 1", `dns_server: "nowhere" is not host:port`,
			`registries[0].endpoint: "registry.example.com:5000" is not scheme://host[:port]`,
			`registries[0].repository: "Library/Busy Box" is not a repository name`,
			`registries[0].reference: "bad tag!" is not a tag`,
			"registries[1].endpoint: has user information: put credentials in auth",
			"registries[1].headers: Host cannot be set", `registries[1].headers: "bad name" is not a header name`,
			"registries[1].manifest_accept[0]: \"a, b\" is not one media type",
			"registries[1].auth: username and password must both be set",
			`registries[2].endpoint: "ftp://registry.example.com": the scheme must be http or https`,
			`registries[3].endpoint: "http://registry.example.com:99999": port must be 1-65535`,
			`registries[3].reference: "sha256:short" is not a tag`,
		},
		"duplicate": {"registries[1]: same endpoint, repository, reference and info as registries[0]"},
		"empty":     {"registries: at least one registry is required"},
	}
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			err := xconfmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			for _, want := range wants {
				assert.ErrorContains(t, err, want)
			}
			assert.NotContains(t, err.Error(), "pw@", "credentials in an endpoint are not repeated")
		})
	}
}

func TestValidateDuplicateWithOtherInfoIsFine(t *testing.T) {
	err := xconfmap.Validate(loadConfig(t, "duplicate"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "registries[2]")
}
