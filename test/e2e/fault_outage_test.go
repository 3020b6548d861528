package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// TestFaultPostgresStoppedMidCycle: a PostgreSQL server of the test's own is stopped while a cycle
// runs (a black-holed target keeps each cycle open for its timeout), then started again. Its
// databases read 0 with a typed reason, the Redis one stays 1, all are back to 1 at the next cycle,
// and the collector holds no more goroutines or open files than before the outage.
func TestFaultPostgresStoppedMidCycle(t *testing.T) {
	faultCase(t)
	pg := dbtest.StartPrivatePostgres(t)
	redisAccount := dbtest.ConnectRedis(t).CreateAccount(t, "fault", "redis-pw")
	silent := otelcoltest.SilentServer(t)
	var targets strings.Builder
	pgNames := []string{"pg-0", "pg-1", "pg-2", "pg-3", "pg-4"}
	for _, name := range pgNames {
		fmt.Fprintf(&targets, "      - {name: %s, engine: postgresql, endpoint: %s, username: postgres, password: unused}\n", name, pg.Addr())
	}
	fmt.Fprintf(&targets, "      - {name: cache, engine: redis, endpoint: %s, username: %s, password: %s}\n", dbtest.RedisAddr, redisAccount.User, redisAccount.Password)
	fmt.Fprintf(&targets, "      - {name: hung, engine: postgresql, endpoint: 127.0.0.1:%d, username: u, password: p}\n", silent)
	port, pprofPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	col := otelcoltest.Start(t, writeConfig(t, fmt.Sprintf(`receivers:
  database:
    discover: false
    collection_interval: 1s
    initial_delay: 0s
    check_timeout: 3s
    targets:
%s
extensions:
  pprof:
    endpoint: 127.0.0.1:%d
exporters:
  prometheus:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
service:
  extensions: [pprof]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [database]
      exporters: [prometheus]
`, targets.String(), pprofPort, port)))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	connectivity := func(name, engine, reason string) string {
		return `sealos_database_connectivity{database="` + name + `",error_type="` + reason + `",namespace="",type="` + engine + `"}`
	}
	all := func(reason string, value float64) func() bool {
		return func() bool {
			s, err := otelcoltest.Scrape(url)
			if err != nil || s[connectivity("cache", "redis", "")] != 1 {
				return false
			}
			for _, name := range pgNames {
				if v, ok := s[connectivity(name, "postgresql", reason)]; !ok || v != value {
					return false
				}
			}
			return true
		}
	}
	require.Eventually(t, all("", 1), waitFor, 200*time.Millisecond, "the databases never connected:\n%s", col.Output())
	time.Sleep(5 * time.Second) // a few cycles: what the collector holds when all is well
	goroutines, files := goroutineCount(t, pprofPort), openFiles(t, col.Pid())

	time.Sleep(time.Second) // into a cycle: the hung target holds it open for 3 s
	pg.Stop()
	stopped := time.Now()
	require.Eventually(t, all("connection_refused", 0), waitFor, 200*time.Millisecond, "the outage is not reported as connection_refused")
	down := time.Since(stopped)
	time.Sleep(4 * time.Second) // a few failing cycles

	pg.Start()
	started := time.Now()
	require.Eventually(t, all("", 1), waitFor, 200*time.Millisecond, "the databases did not come back")
	up := time.Since(started)
	time.Sleep(5 * time.Second) // settled again
	goroutinesAfter, filesAfter := goroutineCount(t, pprofPort), openFiles(t, col.Pid())
	// A cycle in flight holds a handful of goroutines and sockets; growth would be per cycle.
	assert.LessOrEqual(t, goroutinesAfter, goroutines+20, "goroutines grew across the outage")
	assert.LessOrEqual(t, filesAfter, files+10, "open files grew across the outage")
	assert.False(t, col.Exited())
	figure(t, "PostgreSQL stopped mid-cycle: its 5 databases read 0 (connection_refused) %.1f s later, Redis stayed 1; back to 1 %.1f s after the restart (1 s interval, 3 s cycles); goroutines %d -> %d, open files %d -> %d",
		down.Seconds(), up.Seconds(), goroutines, goroutinesAfter, files, filesAfter)
}

// goroutineCount reads the total from the pprof extension's goroutine profile.
func goroutineCount(t *testing.T, pprofPort int) int {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/goroutine?debug=1", pprofPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	var n int
	_, err = fmt.Sscanf(line, "goroutine profile: total %d", &n)
	require.NoError(t, err, "first line %q", line)
	return n
}

// openFiles counts the process' file descriptors (sockets included).
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	return len(entries)
}
