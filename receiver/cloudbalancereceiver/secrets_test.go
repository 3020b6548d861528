package cloudbalancereceiver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/labring/otelcol-sealos/internal/redact"
	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/series"
)

// marker is a unique credential string, "Mk" + its role. Secrets also carry the characters of
// base64 (so their escaped forms differ from the raw one); key ids are alphanumeric, as the
// providers issue them. The needle, the letters only, is found in any escaped form too.
func marker(role string, secret bool) (value, needle string) {
	needle = "Mk" + role + "Zq7"
	if secret {
		return needle + "+/=", needle
	}
	return needle, needle
}

// Credentials never reach the logs (at debug level), the series or the component status — also
// when the providers' error bodies echo the request (Alibaba Cloud's string to sign, VolcEngine's
// "accesskey [...]", a gateway quoting the Authorization header) and on every kind of failure.
func TestSecretsNeverLeak(t *testing.T) {
	c := newClouds(t)
	var needles []string
	pair := func(role string) (string, string) {
		id, idNeedle := marker(role+"Id", false)
		secret, secretNeedle := marker(role+"Secret", true)
		needles = append(needles, idNeedle, secretNeedle)
		return id, secret
	}
	var accounts []Account
	add := func(provider, accountID string, wrongSecret bool, replies ...cloudtest.Reply) {
		id, secret := pair(accountID)
		a := c.account(provider, accountID, id, secret, replies...)
		if wrongSecret {
			a.AccessKeySecret = configopaque.String(secret + "x")
		}
		accounts = append(accounts, a)
	}
	for _, provider := range providerNames() {
		p := provider[:4]
		add(provider, p+"Ok", false, cloudtest.Reply{Balance: "1", Currency: "CNY"})
		add(provider, p+"Wrong", true)
		add(provider, p+"Throttled", false, cloudtest.Reply{Error: cloudtest.Throttle})
		add(provider, p+"Slow", false, cloudtest.Reply{Delay: time.Minute})
		add(provider, p+"Garbage", false, cloudtest.Reply{Body: "{not json"})
	}
	// Key ids the APIs do not know: Alibaba Cloud and VolcEngine quote them back.
	for _, provider := range providerNames() {
		id, secret := pair(provider[:4] + "Unknown")
		accounts = append(accounts, c.pointAt(Account{Provider: provider, AccountID: provider[:4] + "Unknown",
			AccessKeyID: configopaque.String(id), AccessKeySecret: configopaque.String(secret)}))
	}
	// A gateway that quotes the request's credential scope in its error.
	echoID, echoSecret := pair("Echo")
	accounts = append(accounts, c.account("volcengine", "echo", echoID, echoSecret, cloudtest.Reply{Status: 400,
		Body: fmt.Sprintf(`{"ResponseMetadata":{"RequestId":"r","Error":{"Code":"InvalidParameter","Message":"bad Authorization: HMAC-SHA256 Credential=%s/20260101/cn-beijing/billing/request"}}}`, echoID)}))

	cfg := testConfig(t, accounts...)
	cfg.QueryTimeout = 500 * time.Millisecond
	cfg.ThrottleRetries = 1
	cfg.MaxConcurrentQueries = len(accounts)
	host := statereceivertest.NewHost()
	sink, logs := startReceiver(t, cfg, host)

	// Every account has had its outcome, at least twice (so repeated failures were logged too).
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= 3 }, waitFor, 10*time.Millisecond)
	got := latest(sink)
	for _, typ := range []string{"", "auth", "throttled", "timeout", "invalid_response", "api:InvalidParameter"} {
		assert.True(t, hasErrorType(got, typ), "no account failed with %q: %v", typ, got)
	}
	var text strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintln(&text, e.Level, e.Message, e.ContextMap())
	}
	logged := text.String()
	assert.Contains(t, logged, redact.Placeholder, "the echoes were redacted (the test reached them)")
	for _, md := range sink.AllMetrics() {
		for name := range series.Of(md) {
			fmt.Fprintln(&text, name)
		}
	}
	for _, status := range host.Errors() {
		fmt.Fprintln(&text, status)
	}
	require.NotEmpty(t, host.Errors())
	for _, needle := range needles {
		assert.NotContains(t, text.String(), needle)
	}
}

func hasErrorType(got map[string]float64, typ string) bool {
	for name := range got {
		if strings.Contains(name, `error_type="`+typ+`"`) {
			return true
		}
	}
	return false
}
