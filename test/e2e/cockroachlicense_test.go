package e2e

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/cockroachtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// The cockroachlicense receiver in the real binary against PostgreSQL wire-protocol stand-ins (DSNs
// from the environment), through both Prometheus exporters under the predecessor's names. A license
// is renewed with another type, a cluster goes away; liveness never depends on a license.
func TestCockroachLicenseThroughPrometheus(t *testing.T) {
	day := 24 * time.Hour
	prod := cockroachtest.StartT(t, "monitor", "e2e-crdb-secret")
	legacy := cockroachtest.StartT(t, "monitor", "e2e-crdb-secret")
	bare := cockroachtest.StartT(t, "monitor", "e2e-crdb-secret")
	prodExpiry := time.Now().Add(365 * day).Truncate(time.Second)
	prod.SetLicense(cockroachtest.License{ValidUntil: prodExpiry, Type: cockroachtest.TypeEnterprise, OrganizationName: "Sealos", Environment: cockroachtest.EnvProduction}.Encode())
	legacyExpiry := time.Now().Add(-10 * day).Truncate(time.Second)
	legacy.SetLicense(cockroachtest.License{ValidUntil: legacyExpiry, Type: cockroachtest.TypeEvaluation, OrganizationName: "Sealos"}.Encode())
	bare.SetLicense("")
	t.Setenv("E2E_CRDB_PROD", prod.DSN())
	t.Setenv("E2E_CRDB_LEGACY", legacy.DSN())
	t.Setenv("E2E_CRDB_BARE", bare.DSN())

	promPort, statePort, statusPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	cfg := writeConfig(t, fmt.Sprintf(`receivers:
  cockroachlicense:
    collection_interval: 300ms
    initial_delay: 0s
    check_timeout: 2s
    clusters:
      - {name: prod, dsn: "${env:E2E_CRDB_PROD}"}
      - {name: legacy, dsn: "${env:E2E_CRDB_LEGACY}"}
      - {name: bare, dsn: "${env:E2E_CRDB_BARE}"}
extensions:
  status:
    endpoint: 127.0.0.1:%d
exporters:
  prometheus:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
    metric_expiration: 1h
  prometheus_state:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
    metric_expiration: 1h
service:
  extensions: [status]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [cockroachlicense]
      exporters: [prometheus, prometheus_state]
`, statusPort, promPort, statePort))
	col := otelcoltest.Start(t, cfg)
	endpoints := map[string]string{
		"prometheus":       fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort),
		"prometheus_state": fmt.Sprintf("http://127.0.0.1:%d/metrics", statePort),
	}
	info := func(cluster, typ, env, org string) string {
		return series.Format("sealos_cockroach_license_info", map[string]string{"cluster": cluster, "type": typ, "environment": env, "license_id": "", "organization_id": "", "organization_name": org})
	}
	licensed := func(cluster, typ string, code, up float64, expiry time.Time) map[string]float64 {
		c := `{cluster="` + cluster + `"}`
		return map[string]float64{
			"sealos_cockroach_license_up" + c:                                             up,
			`sealos_cockroach_license_type{cluster="` + cluster + `",type="` + typ + `"}`: code,
			"sealos_cockroach_license_expiry_timestamp_seconds" + c:                       float64(expiry.Unix()),
			"sealos_cockroach_license_seconds_until_expiry" + c:                           -1, // moves with the clock
			"sealos_cockroach_license_last_scrape_timestamp_seconds" + c:                  -1,
		}
	}
	bareSeries := map[string]float64{
		`sealos_cockroach_license_up{cluster="bare"}`:                            0,
		info("bare", "", "", ""):                                                 0,
		`sealos_cockroach_license_last_scrape_timestamp_seconds{cluster="bare"}`: -1,
	}
	requireSeriesWithPrefix(t, col, endpoints, "sealos_cockroach_license_", merge(
		licensed("prod", "Enterprise", 1, 1, prodExpiry), map[string]float64{info("prod", "Enterprise", "production", "Sealos"): 1},
		licensed("legacy", "Evaluation", 2, 0, legacyExpiry), map[string]float64{info("legacy", "Evaluation", "", "Sealos"): 1},
		bareSeries))
	livez := fmt.Sprintf("http://127.0.0.1:%d/livez", statusPort)
	assert.Equal(t, http.StatusOK, get(t, livez), "an expired or missing license must not fail liveness")

	// legacy is renewed as Enterprise: its Evaluation series vanish at once. prod goes away: only its
	// last_scrape_timestamp stays (its license is unknown now, not absent) and the cycle fails.
	renewed := time.Now().Add(30 * day).Truncate(time.Second)
	legacy.SetLicense(cockroachtest.License{ValidUntil: renewed, Type: cockroachtest.TypeEnterprise, OrganizationName: "Sealos"}.Encode())
	prod.Stop()
	requireSeriesWithPrefix(t, col, endpoints, "sealos_cockroach_license_", merge(
		map[string]float64{`sealos_cockroach_license_last_scrape_timestamp_seconds{cluster="prod"}`: -1},
		licensed("legacy", "Enterprise", 1, 1, renewed), map[string]float64{info("legacy", "Enterprise", "", "Sealos"): 1},
		bareSeries))
	all, err := otelcoltest.Scrape(endpoints["prometheus"])
	require.NoError(t, err)
	assert.Equal(t, 0.0, all[`sealos_state_metric_collector_success{collector="cockroachlicense"}`])
	assert.Equal(t, http.StatusOK, get(t, livez), "an unreachable cluster must not fail liveness")
	assert.Contains(t, col.Output(), `cluster \"prod\": connecting to`)
	assert.NotContains(t, col.Output(), "e2e-crdb-secret", "a DSN password reached the log")
	assert.NotContains(t, col.Output(), "crl-0-", "a license reached the log")
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec // a test URL on loopback
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}
