package cloudbalancereceiver

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/series"
)

const waitFor = 10 * time.Second

// startReceiver runs the receiver built by the factory, cycling every 50ms, logging at debug level.
func startReceiver(t *testing.T, cfg *Config, host component.Host) (*consumertest.MetricsSink, *observer.ObservedLogs) {
	t.Helper()
	cfg.CollectionInterval = 50 * time.Millisecond
	cfg.InitialDelay = 0
	core, logs := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.Logger = zap.New(core)
	sink := new(consumertest.MetricsSink)
	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return sink, logs
}

// latest is the series of the last batch the sink received.
func latest(sink *consumertest.MetricsSink) map[string]float64 {
	all := sink.AllMetrics()
	if len(all) == 0 {
		return nil
	}
	return series.Of(all[len(all)-1])
}

// A failing account shows in the component status by kind and code, and leaves it when it
// recovers; the cycle itself succeeds (the failure is the account's, reported as a series).
func TestStatusNamesFailingAccounts(t *testing.T) {
	c := newClouds(t)
	c.tencent.Set(cloudtest.Account{ID: "AKID-1", Secret: "right", Replies: []cloudtest.Reply{{Balance: "100"}}})
	t.Setenv("CB_STATUS_ID", "AKID-1")
	t.Setenv("CB_STATUS_SECRET", "wrong")
	cfg := testConfig(t,
		c.pointAt(Account{Provider: "tencentcloud", AccountID: "tc", AccessKeyIDEnv: "CB_STATUS_ID", AccessKeySecretEnv: "CB_STATUS_SECRET"}),
		c.account("alicloud", "ali", "LTAI-1", "s", cloudtest.Reply{Balance: "1.00", Currency: "CNY"}),
	)
	host := statereceivertest.NewHost()
	sink, logs := startReceiver(t, cfg, host)

	want := "accounts[0] tencentcloud/tc: auth (AuthFailure.SignatureFailure)"
	require.Eventually(t, func() bool { return slices.Contains(host.Errors(), want) }, waitFor, 10*time.Millisecond, "status: %v", host.Errors())
	require.Eventually(t, func() bool {
		return latest(sink)[`state_metric.collector.success{collector="cloudbalance"}`] == 1
	}, waitFor, 10*time.Millisecond, "a failing account does not fail the cycle: %v", latest(sink))
	assert.Equal(t, 1, logs.FilterMessage("cloud balance query failed").FilterLevelExact(zap.WarnLevel).Len(), "warned once, not every cycle")

	t.Setenv("CB_STATUS_SECRET", "right")
	ok := key("query_success", `account_id="tc",error_type="",provider="tencentcloud"`)
	require.Eventually(t, func() bool { return latest(sink)[ok] == 1 }, waitFor, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		return !strings.Contains(host.Last(), "tencentcloud")
	}, waitFor, 10*time.Millisecond, "the status clears: %v", host.Errors())
	// The failed series ends: the framework marks it stale once, then it is gone.
	failed := key("query_success", `account_id="tc",error_type="auth",provider="tencentcloud"`)
	require.Eventually(t, func() bool {
		_, found := latest(sink)[failed]
		return !found
	}, waitFor, 10*time.Millisecond)
}
