package e2e

import (
	"fmt"
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
	silent := dbtest.SilentServer(t)
	var targets strings.Builder
	for i := range 200 {
		fmt.Fprintf(&targets, "      - {name: hung-%03d, engine: postgresql, endpoint: 127.0.0.1:%d, username: u, password: p}\n", i, silent)
	}
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
`, targets.String(), c.Kubeconfig, statusPort, port))
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
