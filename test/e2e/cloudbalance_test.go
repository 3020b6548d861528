package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// The cloudbalance receiver in the real binary, against the three providers' fake billing APIs
// (loopback HTTPS, signatures checked), exported through Prometheus under the predecessor's names.
// Every credential is a unique marker; at debug log level, through auth failures, an API that
// echoes the key id, throttling and a timeout, no marker reaches the output, /metrics or /status.
func TestCloudBalanceThroughPrometheus(t *testing.T) {
	ali, tencent, volc := cloudtest.NewAlicloud(t), cloudtest.NewTencentcloud(t), cloudtest.NewVolcengine(t)
	mark := func(role string) string { return "E2eMark" + role + "Q9" }
	ali.Set(cloudtest.Account{ID: mark("AliId"), Secret: mark("AliSecret") + "+/=", Replies: []cloudtest.Reply{{Balance: "12,345.67", Currency: "CNY"}}})
	ali.Set(cloudtest.Account{ID: mark("AliWrongId"), Secret: mark("AliWrongSecret")})
	tencent.Set(cloudtest.Account{ID: mark("TcId"), Secret: mark("TcSecret"), Replies: []cloudtest.Reply{
		{Error: cloudtest.Throttle}, {Balance: "1234567"}, // throttled once, then fen
	}})
	tencent.Set(cloudtest.Account{ID: mark("TcSlowId"), Secret: mark("TcSlowSecret"), Replies: []cloudtest.Reply{{Delay: time.Minute}}})
	volc.Set(cloudtest.Account{ID: mark("VolcId"), Secret: mark("VolcSecret") + "==", Replies: []cloudtest.Reply{{Balance: "5,000.50"}}})
	t.Setenv("E2E_TC_ID", mark("TcId"))
	t.Setenv("E2E_TC_SECRET", mark("TcSecret"))

	account := func(srv *cloudtest.Server, provider, id, creds string) string {
		return fmt.Sprintf(`      - provider: %s
        account_id: %s
        endpoint: %s
        tls: {ca_file: %s}
%s`, provider, id, srv.Endpoint, srv.CAFile, creds)
	}
	inline := func(id, secret string) string {
		return fmt.Sprintf("        access_key_id: %s\n        access_key_secret: %q\n", id, secret)
	}
	metricsPort, statusPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	receivers := "receivers:\n  cloudbalance:\n    collection_interval: 300ms\n    initial_delay: 0s\n    query_timeout: 1s\n    throttle_backoff: 50ms\n    accounts:\n" +
		account(ali, "alicloud", "ali-main", inline(mark("AliId"), mark("AliSecret")+"+/=")) +
		account(tencent, "tencentcloud", "tc-main", "        access_key_id_env: E2E_TC_ID\n        access_key_secret_env: E2E_TC_SECRET\n") +
		account(volc, "volcengine", "volc-main", inline(mark("VolcId"), mark("VolcSecret")+"==")) +
		account(ali, "alicloud", "ali-wrong", inline(mark("AliWrongId"), mark("NotTheSecret"))) +
		account(volc, "volcengine", "volc-unknown", inline(mark("VolcUnknownId"), mark("VolcUnknownSecret"))) +
		account(tencent, "tencentcloud", "tc-slow", inline(mark("TcSlowId"), mark("TcSlowSecret"))) +
		fmt.Sprintf("extensions:\n  status:\n    endpoint: 127.0.0.1:%d\n", statusPort)
	cfg := exportedThroughPrometheus(receivers, metricsPort, 0, "cloudbalance")
	cfg = strings.Replace(cfg, "service:\n  telemetry:\n", "service:\n  extensions: [status]\n  telemetry:\n    logs:\n      level: debug\n", 1)
	col := otelcoltest.Start(t, writeConfig(t, cfg))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)

	want := map[string]float64{
		`sealos_cloudbalance_balance{account_id="ali-main",currency="CNY",provider="alicloud"}`:                12345.67,
		`sealos_cloudbalance_balance{account_id="tc-main",provider="tencentcloud"}`:                            12345.67,
		`sealos_cloudbalance_balance{account_id="volc-main",provider="volcengine"}`:                            5000.5,
		`sealos_cloudbalance_query_success{account_id="ali-main",error_type="",provider="alicloud"}`:           1,
		`sealos_cloudbalance_query_success{account_id="tc-main",error_type="",provider="tencentcloud"}`:        1,
		`sealos_cloudbalance_query_success{account_id="volc-main",error_type="",provider="volcengine"}`:        1,
		`sealos_cloudbalance_query_success{account_id="ali-wrong",error_type="auth",provider="alicloud"}`:      0,
		`sealos_cloudbalance_query_success{account_id="volc-unknown",error_type="auth",provider="volcengine"}`: 0,
		`sealos_cloudbalance_query_success{account_id="tc-slow",error_type="timeout",provider="tencentcloud"}`: 0,
	}
	var got map[string]float64
	ok := assert.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return false
		}
		got = series.WithPrefix(all, "sealos_cloudbalance_")
		return assert.ObjectsAreEqual(want, got) && all[`sealos_state_metric_collector_success{collector="cloudbalance"}`] == 1
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "cloudbalance series: %v\ncollector exited: %v\n%s", got, col.Exited(), col.Output())
	assert.NotContains(t, col.Output(), `"account_id": "tc-main", "error_type"`, "the throttled request was retried within the cycle")
	assert.Zero(t, ali.Accepted(mark("AliWrongId")), "a wrong secret must fail the signature check")

	// A few more cycles of failures (logged at debug level), then grep everything the process shows.
	require.Eventually(t, func() bool { return ali.Rejected(mark("AliWrongId")) >= 4 }, waitFor, 50*time.Millisecond)
	var doc statusDoc
	r := &electionReplica{status: fmt.Sprintf("http://127.0.0.1:%d", statusPort)}
	require.Eventually(t, func() bool {
		doc, _ = r.statusOf()
		return strings.Contains(doc.Receivers["cloudbalance"].LastError, "volcengine/volc-unknown: auth (InvalidAccessKey)")
	}, waitFor, 100*time.Millisecond, "status: %+v", doc)
	status := fetch(t, r.status+"/status")
	metrics := fetch(t, url)
	output := col.Output()
	assert.Contains(t, output, "[REDACTED]", "the echoed key ids reached the log redacted")
	for _, role := range []string{"AliId", "AliSecret", "AliWrongId", "NotTheSecret", "TcId", "TcSecret", "TcSlowId", "TcSlowSecret", "VolcId", "VolcSecret", "VolcUnknownId", "VolcUnknownSecret"} {
		for where, text := range map[string]string{"log": output, "/metrics": metrics, "/status": status} {
			assert.NotContains(t, text, mark(role), "%s leaked into %s", role, where)
		}
	}
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}
