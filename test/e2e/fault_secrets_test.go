package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/registrytest"
)

// TestFaultSecretsNeverShown runs every receiver that takes a credential with passwords, keys,
// headers and DSNs holding a unique marker, at debug log level with the debug exporter at detailed
// verbosity, through failures (wrong passwords, a refused signature, a rejected registry login,
// unreachable servers). The marker never appears in the logs, /metrics or /status.
func TestFaultSecretsNeverShown(t *testing.T) {
	faultCase(t)
	const marker = "Zq7SecretMarker"
	mark := func(what string) string { return marker + what }

	pg := dbtest.ConnectPostgres(t)
	pgRole := pg.CreateRole(t, "fault", "right-pg-password")
	mysqlAccount := dbtest.ConnectMySQL(t).CreateAccount(t, "fault", "right-mysql-password")
	redisAccount := dbtest.ConnectRedis(t).CreateAccount(t, "fault", "right-redis-password")
	ali := cloudtest.NewAlicloud(t)
	ali.Set(cloudtest.Account{ID: "fault-key-id", Secret: "the-right-secret"})
	tokens := registrytest.NewTokenServerT(t, map[string]string{"puller": "right-registry-password"})
	registry := registrytest.StartT(t, registrytest.Options{Token: tokens})
	registry.PushT(t, "library/app", "v1")
	closed := otelcoltest.FreePort(t)

	metricsPort, statusPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	cfg := fmt.Sprintf(`receivers:
  database:
    discover: false
    collection_interval: 500ms
    initial_delay: 0s
    check_timeout: 3s
    targets:
      - {name: pg, engine: postgresql, endpoint: %[1]s, username: %[2]s, password: %[3]s}
      - {name: mysql, engine: mysql, endpoint: %[4]s, username: %[5]s, password: %[6]s}
      - {name: redis, engine: redis, endpoint: %[7]s, username: %[8]s, password: %[9]s}
  userbalance:
    collection_interval: 500ms
    query_timeout: 3s
    dsn: "postgres://%[2]s:%[10]s@%[1]s/postgres?sslmode=disable"
    users: [{region: r, uuid: u, uid: u, owner: o, type: main, level: P0}]
  cloudbalance:
    collection_interval: 500ms
    query_timeout: 3s
    accounts:
      - {provider: alicloud, account_id: a, endpoint: %[11]s, tls: {ca_file: %[12]s}, access_key_id: fault-key-id, access_key_secret: %[13]s}
  registryproxy:
    collection_interval: 500ms
    check_timeout: 3s
    registries:
      - endpoint: %[14]s
        repository: library/app
        reference: v1
        headers: {X-Registry-Token: %[15]s}
        auth: {username: puller, password: %[16]s}
  cockroachlicense:
    collection_interval: 500ms
    check_timeout: 3s
    clusters:
      - {name: crdb, dsn: "postgresql://monitor:%[17]s@127.0.0.1:%[18]d/defaultdb?sslmode=disable"}
  domain:
    collection_interval: 500ms
    timeout: 3s
    ipv6: false
    targets:
      - {endpoint: "127.0.0.1:%[18]d", headers: {X-Api-Key: %[19]s}}
extensions:
  status:
    endpoint: 127.0.0.1:%[20]d
exporters:
  prometheus:
    endpoint: 127.0.0.1:%[21]d
    namespace: sealos
    without_scope_info: true
  debug:
    verbosity: detailed
service:
  extensions: [status]
  telemetry:
    logs:
      level: debug
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [database, userbalance, cloudbalance, registryproxy, cockroachlicense, domain]
      exporters: [prometheus, debug]
`, dbtest.PostgresAddr, pgRole.User, mark("Pg"), dbtest.MySQLAddr, mysqlAccount.User, mark("MySQL"), dbtest.RedisAddr, redisAccount.User, mark("Redis"),
		mark("Dsn"), ali.Endpoint, ali.CAFile, mark("AliSecret"), registry.URL, mark("Header"), mark("Registry"),
		mark("Crdb"), closed, mark("ApiKey"), statusPort, metricsPort)
	col := otelcoltest.Start(t, writeConfig(t, cfg))
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)

	// Every receiver has run, and the credential checks failed: the paths where errors carry
	// request data.
	var got map[string]float64
	require.Eventually(t, func() bool {
		got, _ = otelcoltest.Scrape(metricsURL)
		for _, r := range []string{"database", "userbalance", "cloudbalance", "registryproxy", "cockroachlicense", "domain"} {
			if !hasSeriesOf(got, `sealos_state_metric_collector_success{collector="`+r+`"`) {
				return false
			}
		}
		return hasSeriesOf(got, `error_type="auth_failed"`) && hasSeriesOf(got, `error_type="auth"`)
	}, 2*time.Minute, 500*time.Millisecond, "not every receiver reported a cycle with its failure:\n%v", keysOf(got))
	time.Sleep(3 * time.Second) // a few more failing cycles at debug level

	status := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/status", statusPort))
	metrics := fetch(t, metricsURL)
	require.NotEmpty(t, status)
	for where, text := range map[string]string{"logs (debug level, debug exporter)": col.Output(), "/metrics": metrics, "/status": status} {
		assert.NotContains(t, text, marker, "a secret reached %s", where)
		// Basic credentials sent to the registry, should anything print a request's headers.
		assert.NotContains(t, text, base64.StdEncoding.EncodeToString([]byte("puller:"+mark("Registry"))), "an encoded secret reached %s", where)
	}
	assert.Contains(t, col.Output(), "auth", "the failures were logged (the check covered them)")
	figure(t, "secrets grep: 6 receivers, 10 secrets through auth failures and unreachable servers at debug level: marker absent from %d KiB of logs, %d KiB of /metrics, /status", len(col.Output())>>10, len(metrics)>>10)
}

func hasSeriesOf(all map[string]float64, fragment string) bool {
	for k := range all {
		if strings.Contains(k, fragment) {
			return true
		}
	}
	return false
}

func keysOf(all map[string]float64) []string {
	out := make([]string, 0, len(all))
	for k := range all {
		out = append(out, k)
	}
	return out
}
