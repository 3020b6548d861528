package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
	ubt "github.com/labring/otelcol-sealos/test/userbalancetest"
)

// The userbalance receiver in the real binary, reading a real PostgreSQL database (DSN from the
// environment), exported through Prometheus under the predecessor's names; the database goes away
// and comes back.
func TestUserBalanceThroughPrometheus(t *testing.T) {
	db := ubt.CreateT(t,
		ubt.User{ID: "u-ops", Balance: ubt.Amount(12_345_678_900), Deduction: ubt.Amount(345_678_900)},
		ubt.User{ID: "u-ci", Balance: ubt.Amount(5_000_000)},
		ubt.User{ID: "u-null", NoAccount: true},
	)
	t.Setenv("E2E_USERBALANCE_DSN", db.DSN)
	port := otelcoltest.FreePort(t)
	cfg := writeConfig(t, exportedThroughPrometheus(`receivers:
  userbalance:
    dsn_env: E2E_USERBALANCE_DSN
    collection_interval: 200ms
    query_timeout: 2s
    users:
      - {region: hzh, uuid: uuid-ops, uid: u-ops, owner: ops, type: main, level: P0, quota: 50000}
      - {region: hzh, uuid: uuid-ci, uid: u-ci, owner: ci, type: quota, level: P2, quota: 10}
      - {region: hzh, uuid: uuid-null, uid: u-null, owner: ci, type: main, level: P2}
      - {region: hzh, uuid: uuid-gone, uid: u-gone, owner: ci, type: main, level: P2}
`, port, 2*time.Second, "userbalance"))
	col := otelcoltest.Start(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	// type="quota" on u-ci no longer collides with the quota series: both are served.
	want := map[string]float64{
		`sealos_userbalance_balance{level="P0",owner="ops",region="hzh",type="main",uid="u-ops",uuid="uuid-ops"}`: 12000,
		`sealos_userbalance_quota{level="P0",owner="ops",region="hzh",type="main",uid="u-ops",uuid="uuid-ops"}`:   50000,
		`sealos_userbalance_balance{level="P2",owner="ci",region="hzh",type="quota",uid="u-ci",uuid="uuid-ci"}`:   5,
		`sealos_userbalance_quota{level="P2",owner="ci",region="hzh",type="quota",uid="u-ci",uuid="uuid-ci"}`:     10,
		`sealos_userbalance_unreported_users{reason="not_found"}`:                                                 1,
		`sealos_userbalance_unreported_users{reason="null_balance"}`:                                              1,
	}
	var got map[string]float64
	scrape := func() map[string]float64 {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return nil
		}
		got = all
		return all
	}
	ok := assert.Eventually(t, func() bool {
		return assert.ObjectsAreEqual(want, series.WithPrefix(scrape(), "sealos_userbalance_"))
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "userbalance series: %v\ncollector exited: %v", series.WithPrefix(got, "sealos_userbalance_"), col.Exited())
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="userbalance"}`])
	for name := range got {
		assert.True(t, strings.HasPrefix(name, "sealos_userbalance_") || strings.HasPrefix(name, "sealos_state_metric_collector_"), "unexpected series %s", name)
	}

	// The database refuses connections: cycles fail (success 0), the balances expire; it comes back:
	// they return without a restart.
	ctx := context.Background()
	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), false))
	t.Cleanup(func() { _ = db.AllowConnections(context.Background(), ubt.AdminDSN(), true) })
	require.Eventually(t, func() bool {
		s := scrape()
		return s != nil && s[`sealos_state_metric_collector_success{collector="userbalance"}`] == 0 &&
			len(series.WithPrefix(s, "sealos_userbalance_")) == 0
	}, waitFor, 200*time.Millisecond, "a failed cycle: %v", got)
	assert.NotContains(t, col.Output(), db.DSN, "the DSN reached the log")
	assert.Contains(t, col.Output(), "is not currently accepting connections")

	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), true))
	ok = assert.Eventually(t, func() bool {
		return assert.ObjectsAreEqual(want, series.WithPrefix(scrape(), "sealos_userbalance_"))
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "after recovery: %v", series.WithPrefix(got, "sealos_userbalance_"))
}
