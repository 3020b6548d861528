package cloudbalancereceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/series"
)

// clouds is one fake API per provider.
type clouds struct {
	ali, tencent, volc *cloudtest.Server
}

func newClouds(t testing.TB) *clouds {
	return &clouds{ali: cloudtest.NewAlicloud(t), tencent: cloudtest.NewTencentcloud(t), volc: cloudtest.NewVolcengine(t)}
}

func (c *clouds) server(provider string) *cloudtest.Server {
	switch provider {
	case "alicloud":
		return c.ali
	case "tencentcloud":
		return c.tencent
	default:
		return c.volc
	}
}

// account configures an account with inline credentials against the provider's fake API, which
// holds the key pair id/secret and answers with replies.
func (c *clouds) account(provider, accountID, id, secret string, replies ...cloudtest.Reply) Account {
	srv := c.server(provider)
	srv.Set(cloudtest.Account{ID: id, Secret: secret, Replies: replies})
	return c.pointAt(Account{
		Provider:        provider,
		AccountID:       accountID,
		AccessKeyID:     configopaque.String(id),
		AccessKeySecret: configopaque.String(secret),
	})
}

// pointAt sends a's requests to its provider's fake API, trusting its certificate.
func (c *clouds) pointAt(a Account) Account {
	srv := c.server(a.Provider)
	a.Endpoint = srv.Endpoint
	a.TLS = configtls.ClientConfig{Config: configtls.Config{CAFile: srv.CAFile}}
	return a
}

// testConfig is a valid config for accounts with test-sized timings.
func testConfig(t testing.TB, accounts ...Account) *Config {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Accounts = accounts
	cfg.QueryTimeout = 5 * time.Second
	cfg.ThrottleBackoff = 10 * time.Millisecond
	require.NoError(t, cfg.Validate())
	return cfg
}

// newTestSource starts a source for cfg, logging at debug level into the returned observer.
func newTestSource(t testing.TB, cfg *Config) (*balanceSource, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.Logger = zap.New(core)
	s := newBalanceSource(cfg, set)
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s, logs
}

// collect runs one cycle and returns its series as "name{labels}" → value.
func collect(t *testing.T, s *balanceSource) map[string]float64 {
	t.Helper()
	md, err := s.Collect(context.Background())
	require.NoError(t, err)
	return series.Of(md)
}

// collectMetrics runs one cycle and returns its metrics.
func collectMetrics(t *testing.T, s *balanceSource) pmetric.Metrics {
	t.Helper()
	md, err := s.Collect(context.Background())
	require.NoError(t, err)
	return md
}
