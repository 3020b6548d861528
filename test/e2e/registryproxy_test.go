package e2e

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/registrytest"
	"github.com/labring/otelcol-sealos/test/series"
)

// The registryproxy receiver in the real binary against two real registries (one anonymous, one
// behind a token service, the password from the environment), through both Prometheus exporters
// under the predecessor's names; the anonymous registry then goes away.
func TestRegistryProxyThroughPrometheus(t *testing.T) {
	tokens := registrytest.NewTokenServerT(t, map[string]string{"puller": "e2e-pull-secret"})
	anonymous := registrytest.StartT(t, registrytest.Options{})
	private := registrytest.StartT(t, registrytest.Options{Token: tokens})
	anonymous.PushT(t, "library/app", "v1")
	private.PushT(t, "library/app", "v1")
	t.Setenv("E2E_REGISTRY_PASSWORD", "e2e-pull-secret")

	promPort, statePort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	cfg := writeConfig(t, fmt.Sprintf(`receivers:
  registryproxy:
    collection_interval: 300ms
    initial_delay: 0s
    check_timeout: 2s
    registries:
      - {endpoint: "%s", repository: library/app, reference: v1, info: anonymous}
      - endpoint: "%s"
        repository: library/app
        reference: v1
        info: token
        auth: {username: puller, password: "${env:E2E_REGISTRY_PASSWORD}"}
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
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [registryproxy]
      exporters: [prometheus, prometheus_state]
`, anonymous.URL, private.URL, promPort, statePort))
	col := otelcoltest.Start(t, cfg)
	endpoints := map[string]string{
		"prometheus":       fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort),
		"prometheus_state": fmt.Sprintf("http://127.0.0.1:%d/metrics", statePort),
	}

	labels := func(reg *registrytest.Registry, info string, extra ...string) map[string]string {
		_, port, _ := net.SplitHostPort(reg.Addr)
		l := map[string]string{"endpoint": reg.URL, "scheme": "http", "host": "127.0.0.1", "port": port, "info": info, "repository": "library/app", "reference": "v1"}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	registry := func(reg *registrytest.Registry, info, code, reason string, healthy float64) map[string]float64 {
		out := map[string]float64{
			series.Format("sealos_registry_proxy_dns_status", labels(reg, info, "error_type", "")):    1,
			series.Format("sealos_registry_proxy_health", labels(reg, info, "type", "resolve")):       1,
			series.Format("sealos_registry_proxy_health", labels(reg, info, "type", "ip_count")):      1,
			series.Format("sealos_registry_proxy_health", labels(reg, info, "type", "healthy_ips")):   healthy,
			series.Format("sealos_registry_proxy_health", labels(reg, info, "type", "unhealthy_ips")): 1 - healthy,
		}
		apiCode := code
		if info == "token" {
			apiCode = "401" // the API answers 401 without a token: the registry is up
		}
		out[series.Format("sealos_registry_proxy_status", labels(reg, info, "ip", "127.0.0.1", "check_type", "api", "status_code", apiCode, "error_type", reason))] = healthy
		out[series.Format("sealos_registry_proxy_status", labels(reg, info, "ip", "127.0.0.1", "check_type", "manifest", "status_code", code, "error_type", reason))] = healthy
		return out
	}
	// Response times vary: their presence is checked, with value -1 standing for "any".
	timed := func(reg *registrytest.Registry, info string) map[string]float64 {
		out := map[string]float64{}
		for _, check := range []string{"api", "manifest"} {
			out[series.Format("sealos_registry_proxy_response_time_seconds", labels(reg, info, "ip", "127.0.0.1", "check_type", check))] = -1
		}
		return out
	}
	requireSeriesWithPrefix(t, col, endpoints, "sealos_registry_proxy_", merge(registry(anonymous, "anonymous", "200", "", 1), timed(anonymous, "anonymous"), registry(private, "token", "200", "", 1), timed(private, "token")))

	// The anonymous registry goes away: its checks fail with a typed reason, the 200 series and its
	// response times vanish at once (one series per check, never two).
	anonymous.Stop()
	requireSeriesWithPrefix(t, col, endpoints, "sealos_registry_proxy_", merge(registry(anonymous, "anonymous", "0", "connection_refused", 0), registry(private, "token", "200", "", 1), timed(private, "token")))
	assert.NotContains(t, col.Output(), "e2e-pull-secret", "the registry password reached the log")
}

// requireSeriesWithPrefix waits until every endpoint holds exactly want among the series whose
// names start with prefix (a value of -1 matches any value).
func requireSeriesWithPrefix(t *testing.T, col *otelcoltest.Process, endpoints map[string]string, prefix string, want map[string]float64) {
	t.Helper()
	for name, url := range endpoints {
		var got map[string]float64
		ok := assert.Eventually(t, func() bool {
			all, err := otelcoltest.Scrape(url)
			if err != nil {
				return false
			}
			got = series.WithPrefix(all, prefix)
			return matches(got, want)
		}, waitFor, 200*time.Millisecond)
		require.True(t, ok, "%s never held exactly\n%v\nit holds\n%v\ncollector exited: %v", name, want, got, col.Exited())
	}
}

// matches: the same series, values equal where want is not -1.
func matches(got, want map[string]float64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || (w != -1 && g != w) {
			return false
		}
	}
	return true
}
