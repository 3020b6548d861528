package e2e

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// TestSIGTERMDuringABlackHoledCycle stops the leader while its database cycle waits on targets
// that accept and never answer: the cycle is cancelled, the process exits at once and releases
// its lease.
func TestSIGTERMDuringABlackHoledCycle(t *testing.T) {
	c := k8stest.StartT(t)
	targets := blackHoledTargets(t, 200)
	port, statusPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	cfg := writeConfig(t, fmt.Sprintf(`receivers:
  database:
    discover: false
    collection_interval: 1h
    initial_delay: 0s
    check_timeout: 10m
    concurrency: {postgresql: 20}
    k8s_leader_elector: leader_election
    targets:
%s
extensions:
  leader_election:
    auth_type: kubeConfig
    kubeconfig_path: %s
    lease_name: otelcol-sealos-shutdown
    lease_namespace: default
  status:
    endpoint: 127.0.0.1:%d
exporters:
  prometheus:
    endpoint: 127.0.0.1:%d
service:
  extensions: [leader_election, status]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [database]
      exporters: [prometheus]
`, targets, c.Kubeconfig, statusPort, port))
	col := otelcoltest.StartWithEnv(t, cfg, []string{"POD_NAME=shutdown-test"})
	require.Eventually(t, func() bool { return leaseHolderOf(t, c, "otelcol-sealos-shutdown") == "shutdown-test" }, waitFor, 50*time.Millisecond)
	time.Sleep(time.Second) // the cycle is under way: 20 checks hang, 180 wait for a worker

	stopped := time.Now()
	require.NoError(t, col.Signal(syscall.SIGTERM))
	code, err := col.Wait(30 * time.Second)
	took := time.Since(stopped)
	require.NoError(t, err, "the collector did not exit:\n%s", col.Output())
	assert.Zero(t, code, col.Output())
	t.Logf("SIGTERM during a black-holed database cycle: exited after %s", took)
	assert.Less(t, took, 2*time.Second, "shutdown waited for the hung checks")
	assert.Empty(t, leaseHolderOf(t, c, "otelcol-sealos-shutdown"), "the lease must be released on the way out")
}

// blackHoledTargets lists n PostgreSQL targets on one server that accepts and never answers.
func blackHoledTargets(t *testing.T, n int) string {
	t.Helper()
	silent := dbtest.SilentServer(t)
	var targets strings.Builder
	for i := range n {
		fmt.Fprintf(&targets, "      - {name: hung-%04d, engine: postgresql, endpoint: 127.0.0.1:%d, username: u, password: p}\n", i, silent)
	}
	return targets.String()
}

// TestMeasureShutdownDuringABlackHoledCycle (OTELCOL_SEALOS_MEASURE_SHUTDOWN=1, `make
// measure-shutdown`) times SIGTERM during a cycle over 1,000 black-holed databases with the default
// check_timeout (10s) and concurrency (50), for docs/benchmarks.md. Point OTELCOL_SEALOS_BIN at an
// older build to measure it too.
func TestMeasureShutdownDuringABlackHoledCycle(t *testing.T) {
	if os.Getenv("OTELCOL_SEALOS_MEASURE_SHUTDOWN") == "" {
		t.Skip("a measurement: set OTELCOL_SEALOS_MEASURE_SHUTDOWN=1")
	}
	port := otelcoltest.FreePort(t)
	cfg := writeConfig(t, fmt.Sprintf(`receivers:
  database:
    discover: false
    collection_interval: 1h
    initial_delay: 0s
    targets:
%s
exporters:
  prometheus:
    endpoint: 127.0.0.1:%d
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [database]
      exporters: [prometheus]
`, blackHoledTargets(t, 1000), port))
	for run := range 3 {
		col := otelcoltest.Start(t, cfg)
		time.Sleep(3 * time.Second) // the first cycle is under way
		stopped := time.Now()
		require.NoError(t, col.Signal(syscall.SIGTERM))
		_, err := col.Wait(10 * time.Minute)
		require.NoError(t, err)
		t.Logf("run %d: SIGTERM during a cycle over 1,000 black-holed databases: exited after %s", run+1, time.Since(stopped).Round(time.Millisecond))
	}
}
