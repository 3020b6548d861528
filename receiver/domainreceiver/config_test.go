package domainreceiver

import (
	"encoding/json"
	"fmt"
	"github.com/labring/otelcol-sealos/test/configtest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap/xconfmap"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, xconfmap.Validate(cfg))
	assert.Equal(t, time.Minute, cfg.CollectionInterval)
	assert.Equal(t, 30*time.Second, cfg.Timeout)
	assert.Equal(t, 3, cfg.DialRetries)
	assert.Equal(t, 64, cfg.MaxConcurrentChecks)
	assert.True(t, cfg.IncludeCertCheck)
	assert.True(t, cfg.IncludeHTTPCheck)
	assert.True(t, cfg.IPv4)
	assert.True(t, cfg.IPv6)
	assert.Empty(t, cfg.DNSServer)
	assert.Nil(t, cfg.K8sLeaderElector)
	assert.Equal(t, []Target{{Endpoint: "example.com", FollowRedirects: true}}, cfg.Targets)
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, xconfmap.Validate(cfg))
	elector := component.MustNewIDWithName("k8s_leader_elector", "cluster")
	want := createDefaultConfig().(*Config)
	want.CollectionInterval = 5 * time.Minute
	want.Timeout = 10 * time.Second
	want.K8sLeaderElector = &elector
	want.DialRetries = 1
	want.IncludeCertCheck = false
	want.IPv6 = false
	want.MaxConcurrentChecks = 8
	want.DNSServer = "10.0.0.10:53"
	want.CAFile = "/etc/ssl/internal-ca.pem"
	want.Targets = []Target{
		{Endpoint: "example.com", FollowRedirects: true},
		{Endpoint: "  api.example.com:8443  ", FollowRedirects: true},
		{Endpoint: "[2001:db8::1]:8443", FollowRedirects: true},
		{Endpoint: "2001:db8::2", FollowRedirects: true},
		{
			Endpoint: "status.example.com", Path: "healthz?full=1", Method: "head",
			Headers:             map[string]configopaque.String{"Authorization": "Bearer secret-token"},
			ExpectedStatusCodes: []int{200, 204}, InsecureSkipVerify: true, FollowRedirects: false,
		},
		{Endpoint: "www.example.com", FollowRedirects: true},
	}
	assert.False(t, cfg.Metrics.DomainCertInfo.Enabled)
	assert.True(t, cfg.Metrics.DomainCertExpiry.Enabled)
	want.MetricsBuilderConfig = cfg.MetricsBuilderConfig // carries unexported "set by user" flags
	assert.Equal(t, want, cfg)
}

func TestTargetsBecomeRequests(t *testing.T) {
	cfg := loadConfig(t, "custom")
	s := newDomainSource(cfg, receivertest.NewNopSettings(metadata.Type))
	var got [][3]string
	for _, tc := range cfg.Targets {
		tg := s.newTarget(tc)
		got = append(got, [3]string{tg.name, tg.host, tg.Method + " " + tg.url})
	}
	assert.Equal(t, [][3]string{
		{"example.com", "example.com", "GET https://example.com/"},
		{"api.example.com:8443", "api.example.com", "GET https://api.example.com:8443/"},
		{"[2001:db8::1]:8443", "2001:db8::1", "GET https://[2001:db8::1]:8443/"},
		{"2001:db8::2", "2001:db8::2", "GET https://[2001:db8::2]/"},
		{"status.example.com", "status.example.com", "HEAD https://status.example.com/healthz?full=1"},
		{"www.example.com", "www.example.com", "GET https://www.example.com/"},
	}, got)
}

func TestValidateNamesTheKeyAndTarget(t *testing.T) {
	tests := map[string][]string{
		"bad_targets": {
			`targets[0].endpoint: "https://example.com" has a scheme: give host[:port] only`,
			`targets[1].endpoint: "example.com/healthz" has a path, query or fragment: give host[:port] only and put the path in ` + "`path`",
			`targets[2].endpoint: "example.com:99999": port must be 1-65535`,
			`targets[3].endpoint: must not be empty`,
			`targets[4].expected_status_codes: 42 is not an HTTP status (100-599)`,
			`targets[4].path: "https://elsewhere.example/" must be a path such as /healthz, not a URL`,
			`targets[6].endpoint: "example.net" is already targets[5]`,
		},
		"bad_settings": {
			"collection_interval: must be positive", "timeout: must be positive", "dial_retries: must be at least 1",
			"max_concurrent_checks: must be at least 1", "ipv4, ipv6: at least one address family must be enabled",
			`dns_server: "10.0.0.10" is not host:port`,
		},
		"no_targets": {"targets: at least one target is required"},
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

// The invalid target carries secret headers: the errors about it, and the config as printed or
// marshalled (logs, print-config), never show their values.
func TestHeaderValuesStayOutOfErrors(t *testing.T) {
	const marker = "header-secret-marker"
	cfg := loadConfig(t, "bad_targets")
	require.Equal(t, configopaque.String(marker), cfg.Targets[4].Headers["X-Api-Key"], "the fixture must carry the secret")
	err := xconfmap.Validate(cfg)
	require.ErrorContains(t, err, `targets[4].path`)
	assert.NotContains(t, err.Error(), marker)
	assert.NotContains(t, fmt.Sprintf("%v %+v", cfg, cfg.Targets), marker)
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(out), marker)
}
