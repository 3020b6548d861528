package cloudbalancereceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

const wrongSecret = "not-the-secret"

// key is a series of metric cloudbalance.<name> with labels as written in a series key.
func key(name, labels string) string { return "cloudbalance." + name + "{" + labels + "}" }

// Each provider's balance, through its SDK, signed with the account's key pair and checked by the
// provider's fake API; converted as the predecessor did (Tencent Cloud's fen / 100).
func TestCollectGolden(t *testing.T) {
	c := newClouds(t)
	cfg := testConfig(t,
		c.account("alicloud", "ali-main", "LTAI-main", "ali-secret", cloudtest.Reply{Balance: "12,345.67", Currency: "CNY"}),
		c.account("tencentcloud", "tc-main", "AKID-main", "tc-secret", cloudtest.Reply{Balance: "1234567"}),
		c.account("volcengine", "volc-main", "AKLT-main", "volc-secret", cloudtest.Reply{Balance: "5,000.50"}),
		// A wrong secret fails each provider's signature check.
		withSecret(c.account("alicloud", "ali-wrong", "LTAI-wrong", "ali-secret-2"), wrongSecret),
		withSecret(c.account("tencentcloud", "tc-wrong", "AKID-wrong", "tc-secret-2"), wrongSecret),
		withSecret(c.account("volcengine", "volc-wrong", "AKLT-wrong", "volc-secret-2"), wrongSecret),
		// An API error that is neither auth nor throttling keeps its code.
		c.account("alicloud", "ali-notapplicable", "LTAI-na", "s", cloudtest.Reply{Error: "NotApplicable"}),
		c.account("tencentcloud", "tc-failed", "AKID-failed", "s", cloudtest.Reply{Error: "FailedOperation"}),
		// Throttled on every try.
		c.account("volcengine", "volc-throttled", "AKLT-throttled", "s", cloudtest.Reply{Error: cloudtest.Throttle}),
	)
	s, _ := newTestSource(t, cfg)
	md := collectMetrics(t, s)

	path := filepath.Join("testdata", "expected_metrics", "accounts.yaml")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreStartTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreResourceMetricsOrder()))

	for _, id := range []string{"LTAI-wrong", "AKID-wrong", "AKLT-wrong"} {
		assert.Equal(t, 0, c.server(providerOfKey(id)).Accepted(id), "a wrong secret must fail the signature check: %s", id)
		assert.Equal(t, 1, c.server(providerOfKey(id)).Rejected(id), id)
	}
}

func withSecret(a Account, secret string) Account {
	a.AccessKeySecret = configopaque.String(secret)
	return a
}

func providerOfKey(id string) string {
	switch id[:4] {
	case "LTAI":
		return "alicloud"
	case "AKID":
		return "tencentcloud"
	default:
		return "volcengine"
	}
}

// Throttled requests are retried with backoff; the answer after the throttling counts.
func TestThrottledRequestsAreRetried(t *testing.T) {
	for _, provider := range providerNames() {
		t.Run(provider, func(t *testing.T) {
			c := newClouds(t)
			throttle := cloudtest.Reply{Error: cloudtest.Throttle}
			cfg := testConfig(t, c.account(provider, "acct", "key-1", "secret-1", throttle, throttle, cloudtest.Reply{Balance: "100", Currency: "USD"}))
			s, logs := newTestSource(t, cfg)
			got := collect(t, s)
			assert.Equal(t, 1.0, got[key("query_success", `account_id="acct",error_type="",provider="`+provider+`"`)], got)
			assert.Equal(t, 3, c.server(provider).Accepted("key-1"))
			assert.Zero(t, logs.FilterMessage("cloud balance query failed").Len())
		})
	}
}

// Retries stop after throttle_retries; the account then reports throttled.
func TestThrottlingOutlastsRetries(t *testing.T) {
	c := newClouds(t)
	cfg := testConfig(t, c.account("tencentcloud", "acct", "key-1", "secret-1", cloudtest.Reply{Error: cloudtest.Throttle}))
	cfg.ThrottleRetries = 2
	s, logs := newTestSource(t, cfg)
	got := collect(t, s)
	assert.Equal(t, 0.0, got[key("query_success", `account_id="acct",error_type="throttled",provider="tencentcloud"`)], got)
	assert.Equal(t, 3, c.tencent.Accepted("key-1"))
	failed := logs.FilterMessage("cloud balance query failed").All()
	require.Len(t, failed, 1)
	assert.Contains(t, failed[0].ContextMap()["error"], "RequestLimitExceeded")
	assert.Contains(t, failed[0].ContextMap()["error"], "(3 attempts)")
}

// Only throttling is retried: auth and other API errors are reported after one request.
func TestOtherErrorsAreNotRetried(t *testing.T) {
	c := newClouds(t)
	cfg := testConfig(t,
		c.account("alicloud", "denied", "key-1", "secret-1", cloudtest.Reply{Error: "NotAuthorized"}),
		c.account("volcengine", "internal", "key-2", "secret-2", cloudtest.Reply{Error: "InternalError", Status: 500}),
	)
	s, _ := newTestSource(t, cfg)
	got := collect(t, s)
	assert.Equal(t, 0.0, got[key("query_success", `account_id="denied",error_type="auth",provider="alicloud"`)], got)
	assert.Equal(t, 0.0, got[key("query_success", `account_id="internal",error_type="api:InternalError",provider="volcengine"`)], got)
	assert.Equal(t, 1, c.ali.Accepted("key-1"))
	assert.Equal(t, 1, c.volc.Accepted("key-2"))
}

// A slow API times out within query_timeout without holding the other accounts back.
func TestSlowReplyTimesOut(t *testing.T) {
	for _, provider := range providerNames() {
		t.Run(provider, func(t *testing.T) {
			c := newClouds(t)
			cfg := testConfig(t,
				c.account(provider, "slow", "key-slow", "secret-1", cloudtest.Reply{Delay: time.Minute, Balance: "1"}),
				c.account(provider, "fast", "key-fast", "secret-2", cloudtest.Reply{Balance: "2"}),
			)
			cfg.QueryTimeout = 300 * time.Millisecond
			s, _ := newTestSource(t, cfg)
			got := collect(t, s)
			assert.Equal(t, 0.0, got[key("query_success", `account_id="slow",error_type="timeout",provider="`+provider+`"`)], got)
			assert.Equal(t, 1.0, got[key("query_success", `account_id="fast",error_type="",provider="`+provider+`"`)], got)
		})
	}
}

// A closed port is a network error; a gateway's answers without a provider code are typed by
// their HTTP status; a body that is not the documented one is an invalid response.
func TestTransportAndGatewayErrors(t *testing.T) {
	closed := fmt.Sprintf("127.0.0.1:%d", otelcoltest.FreePort(t)) // nothing listens there
	for _, provider := range providerNames() {
		t.Run(provider, func(t *testing.T) {
			c := newClouds(t)
			down := c.account(provider, "down", "key-down", "s")
			down.Endpoint = closed
			cfg := testConfig(t,
				down,
				c.account(provider, "gw-429", "key-429", "s", cloudtest.Reply{Status: 429, Body: "<html>too many requests</html>"}),
				c.account(provider, "gw-503", "key-503", "s", cloudtest.Reply{Status: 503, Body: "<html>unavailable</html>"}),
				c.account(provider, "garbage", "key-garbage", "s", cloudtest.Reply{Body: "{not json"}),
				c.account(provider, "nan", "key-nan", "s", cloudtest.Reply{Balance: "a lot"}),
			)
			cfg.ThrottleRetries = 0
			s, _ := newTestSource(t, cfg)
			got := collect(t, s)
			for account, typ := range map[string]string{
				"down": "network", "gw-429": "throttled", "gw-503": "api:http_503", "garbage": "invalid_response", "nan": "invalid_response",
			} {
				assert.Contains(t, got, key("query_success", `account_id="`+account+`",error_type="`+typ+`",provider="`+provider+`"`), "%s: %v", account, got)
			}
		})
	}
}

// At most max_concurrent_queries accounts are in flight at once.
func TestConcurrencyIsBounded(t *testing.T) {
	c := newClouds(t)
	var accounts []Account
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		accounts = append(accounts, c.account("volcengine", id, "key-"+id, "s", cloudtest.Reply{Delay: 200 * time.Millisecond, Balance: "1"}))
	}
	cfg := testConfig(t, accounts...)
	cfg.MaxConcurrentQueries = 2
	s, _ := newTestSource(t, cfg)
	got := collect(t, s)
	assert.Len(t, got, 2*len(accounts), got)
	assert.Equal(t, 2, c.volc.MaxInFlight())
}

// The cycle's context bounds every query: a cancelled cycle ends at once, as failed.
func TestCancelledCycle(t *testing.T) {
	c := newClouds(t)
	cfg := testConfig(t, c.account("alicloud", "slow", "key-1", "s", cloudtest.Reply{Delay: time.Minute, Balance: "1"}))
	s, _ := newTestSource(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	md, err := s.Collect(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, series.Of(md), key("query_success", `account_id="slow",error_type="timeout",provider="alicloud"`))
}
