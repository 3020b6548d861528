package userbalancereceiver

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/labring/otelcol-sealos/receiver/userbalancereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/series"
	ubt "github.com/labring/otelcol-sealos/test/userbalancetest"
)

// sampleUsers covers every case the receiver tells apart.
var sampleUsers = []ubt.User{
	{ID: "u-alice", Balance: ubt.Amount(12_345_678_900), Deduction: ubt.Amount(345_678_900)}, // 12000
	{ID: "u-bob", Balance: ubt.Amount(5_000_000)},                                            // NULL deduction: 5
	{ID: "u-carol", Deduction: ubt.Amount(1_000_000)},                                        // NULL balance: no series
	{ID: "u-dave", NoAccount: true},                                                          // no Account row: no series
	{ID: "u-erin", Balance: ubt.Amount(1_234_567), Deduction: ubt.Amount(0)},                 // 1.23 (rounded)
	{ID: "u-frank", Balance: ubt.Amount(1_000_000), Deduction: ubt.Amount(3_500_000)},        // overdrawn: -2.5
	{ID: "u-unconfigured", Balance: ubt.Amount(9_000_000)},                                   // in the DB, not configured
}

func quota(v float64) *float64 { return &v }

// sampleConfig configures every sample user but u-unconfigured, plus one missing from the DB.
// u-erin has type quota: the predecessor emitted two identical series for her.
func sampleConfig(dsn string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = configopaque.String(dsn)
	cfg.Users = []User{
		{Region: "hzh", UUID: "uuid-a", UID: "u-alice", Owner: "ops", Type: "main", Level: "P0", Quota: quota(50000)},
		{Region: "hzh", UUID: "uuid-b", UID: "u-bob", Owner: "dev", Type: "test", Level: "P2"},
		{Region: "hzh", UUID: "uuid-c", UID: "u-carol", Owner: "dev", Type: "test", Level: "P2", Quota: quota(10)},
		{Region: "bja", UUID: "uuid-d", UID: "u-dave", Owner: "dev", Type: "test", Level: "P2"},
		{Region: "bja", UUID: "uuid-e", UID: "u-erin", Owner: "ops", Type: "quota", Level: "P1", Quota: quota(100)},
		{Region: "bja", UUID: "uuid-f", UID: "u-frank", Owner: "ops", Type: "main", Level: "P1"},
		{Region: "gzg", UUID: "uuid-g", UID: "u-missing", Owner: "ops", Type: "main", Level: "P0", Quota: quota(5)},
	}
	return cfg
}

func newTestSource(t *testing.T, cfg *Config) (*balanceSource, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.Logger = zap.New(core)
	s := newBalanceSource(cfg, set)
	require.NoError(t, s.Start(context.Background(), nil))
	return s, logs
}

func TestCollectGolden(t *testing.T) {
	db := ubt.CreateT(t, sampleUsers...)
	s, logs := newTestSource(t, sampleConfig(db.DSN))
	md, err := s.Collect(context.Background())
	require.NoError(t, err)

	path := filepath.Join("testdata", "expected_metrics", "sample_users.yaml")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreMetricDataPointsOrder()))

	// The reasons are logged once, naming the users.
	warned := logs.FilterMessageSnippet("configured users without a balance series").All()
	require.Len(t, warned, 1)
	assert.Equal(t, []any{"u-missing"}, warned[0].ContextMap()["not_found"])
	assert.Equal(t, []any{"u-carol", "u-dave"}, warned[0].ContextMap()["null_balance"])
	_, err = s.Collect(context.Background())
	require.NoError(t, err)
	assert.Len(t, logs.FilterMessageSnippet("configured users without a balance series").All(), 1, "an unchanged reason is logged again")
}

// TestCollectSeries says in Prometheus terms what the golden file holds, so a reviewer can read it.
func TestCollectSeries(t *testing.T) {
	db := ubt.CreateT(t, sampleUsers...)
	s, _ := newTestSource(t, sampleConfig(db.DSN))
	md, err := s.Collect(context.Background())
	require.NoError(t, err)
	lbl := func(region, uuid, uid, owner, typ, level string) string {
		return `{level="` + level + `",owner="` + owner + `",region="` + region + `",type="` + typ + `",uid="` + uid + `",uuid="` + uuid + `"}`
	}
	assert.Equal(t, map[string]float64{
		"userbalance.balance" + lbl("hzh", "uuid-a", "u-alice", "ops", "main", "P0"): 12000,
		"userbalance.quota" + lbl("hzh", "uuid-a", "u-alice", "ops", "main", "P0"):   50000,
		"userbalance.balance" + lbl("hzh", "uuid-b", "u-bob", "dev", "test", "P2"):   5,
		"userbalance.balance" + lbl("bja", "uuid-e", "u-erin", "ops", "quota", "P1"): 1.23,
		"userbalance.quota" + lbl("bja", "uuid-e", "u-erin", "ops", "quota", "P1"):   100,
		"userbalance.balance" + lbl("bja", "uuid-f", "u-frank", "ops", "main", "P1"): -2.5,
		`userbalance.unreported_users{reason="not_found"}`:                           1,
		`userbalance.unreported_users{reason="null_balance"}`:                        2,
	}, series.Of(md))
}

func TestCollectFollowsChangesBetweenCycles(t *testing.T) {
	db := ubt.CreateT(t, sampleUsers...)
	s, logs := newTestSource(t, sampleConfig(db.DSN))
	ctx := context.Background()
	_, err := s.Collect(ctx)
	require.NoError(t, err)

	require.NoError(t, db.SetBalance(ctx, "u-alice", 7_000_000))
	require.NoError(t, db.AddUsers(ctx, ubt.User{ID: "u-missing", Balance: ubt.Amount(2_000_000)}))
	require.NoError(t, db.SetBalance(ctx, "u-carol", 3_000_000))
	require.NoError(t, ubt.Exec(ctx, db.DSN, `INSERT INTO "Account" ("userUid", balance) SELECT uid, 4000000 FROM "User" WHERE id = 'u-dave'`))
	md, err := s.Collect(ctx)
	require.NoError(t, err)
	got := series.Of(md)
	assert.Equal(t, -338.68, got[`userbalance.balance{level="P0",owner="ops",region="hzh",type="main",uid="u-alice",uuid="uuid-a"}`], "(7000000 - 345678900) / 1e6, rounded")
	assert.Equal(t, 2.0, got[`userbalance.balance{level="P0",owner="ops",region="gzg",type="main",uid="u-missing",uuid="uuid-g"}`])
	assert.Equal(t, 2.0, got[`userbalance.balance{level="P2",owner="dev",region="hzh",type="test",uid="u-carol",uuid="uuid-c"}`], "3 - 1 deducted")
	assert.Equal(t, 4.0, got[`userbalance.balance{level="P2",owner="dev",region="bja",type="test",uid="u-dave",uuid="uuid-d"}`])
	assert.Equal(t, 0.0, got[`userbalance.unreported_users{reason="not_found"}`])
	assert.Equal(t, 0.0, got[`userbalance.unreported_users{reason="null_balance"}`])
	assert.Len(t, logs.FilterMessage("every configured user has a balance again").All(), 1)
}

// A database that refuses connections fails the cycle with a clear, secret-free error; once it
// accepts them again the next cycle reports every balance.
func TestCollectRecoversWhenTheDatabaseComesBack(t *testing.T) {
	db := ubt.CreateT(t, sampleUsers...)
	s, _ := newTestSource(t, sampleConfig(db.DSN))
	ctx := context.Background()
	md, err := s.Collect(ctx)
	require.NoError(t, err)
	want := series.Of(md)

	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), false))
	t.Cleanup(func() { _ = db.AllowConnections(context.Background(), ubt.AdminDSN(), true) })
	md, err = s.Collect(ctx)
	require.ErrorContains(t, err, "connecting to PostgreSQL 127.0.0.1:5432/"+db.Name)
	require.ErrorContains(t, err, "is not currently accepting connections")
	assert.Empty(t, series.Of(md), "a failed cycle must not emit balances")

	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), true))
	md, err = s.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, series.Of(md))
}

// A row lock held elsewhere makes the query hang; query_timeout ends it and the cycle fails.
func TestCollectQueryTimesOut(t *testing.T) {
	db := ubt.CreateT(t, sampleUsers...)
	cfg := sampleConfig(db.DSN)
	cfg.QueryTimeout = 2 * time.Second // roomy for connecting on a loaded machine; the locked query never ends on its own
	s, _ := newTestSource(t, cfg)
	ctx := context.Background()

	locker, err := pgxConnect(ctx, db.DSN)
	require.NoError(t, err)
	defer func() { _ = locker.Close(ctx) }()
	tx, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE "Account" IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)

	began := time.Now()
	_, err = s.Collect(ctx)
	require.ErrorContains(t, err, "querying balances from PostgreSQL 127.0.0.1:5432/"+db.Name+" (query_timeout 2s)")
	assert.Less(t, time.Since(began), 10*time.Second, "the query was not bounded")

	require.NoError(t, tx.Rollback(ctx))
	_, err = s.Collect(ctx)
	require.NoError(t, err)
}

// A port that accepts TCP and never speaks: connecting is bounded by query_timeout.
func TestCollectConnectTimesOut(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	held := make(chan net.Conn, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			held <- c // never answered
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		<-done
		close(held)
		for c := range held {
			_ = c.Close()
		}
	})

	cfg := sampleConfig("postgres://postgres:hunter2-p%40ss@" + lis.Addr().String() + "/billing?sslmode=disable")
	cfg.QueryTimeout = 300 * time.Millisecond
	s, _ := newTestSource(t, cfg)
	_, err = s.Collect(context.Background())
	require.ErrorContains(t, err, "connecting to PostgreSQL 127.0.0.1:")
	assert.NotContains(t, err.Error(), "hunter2")
}

// Neither the DSN nor its password appears in any error: a wrong password, an unknown database.
func TestErrorsNeverCarryTheDSN(t *testing.T) {
	const password = "Sup3r:s3cr@t/pw"
	db := ubt.CreateT(t, sampleUsers...)
	ctx := context.Background()
	role := strings.ReplaceAll(db.Name, "otelcol_ub", "ubrole")
	require.NoError(t, ubt.Exec(ctx, ubt.AdminDSN(), `CREATE ROLE `+role+` LOGIN PASSWORD 'other'`))
	t.Cleanup(func() { _ = ubt.Exec(context.Background(), ubt.AdminDSN(), `DROP ROLE IF EXISTS `+role) })

	for name, dsn := range map[string]string{
		// The local server trusts loopback: a missing role and database are the errors it can give.
		"unknown role":     "host=127.0.0.1 port=5432 user=nobody_" + role + " password='" + password + "' dbname=" + db.Name + " sslmode=disable",
		"unknown database": "postgres://" + role + ":" + strings.NewReplacer(":", "%3A", "@", "%40", "/", "%2F").Replace(password) + "@127.0.0.1:5432/" + db.Name + "_gone?sslmode=disable",
		"unparsable":       "host=127.0.0.1 password='" + password,
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := newTestSource(t, sampleConfig(dsn))
			_, err := s.Collect(ctx)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), password)
			assert.NotContains(t, err.Error(), "Sup3r")
			assert.NotContains(t, err.Error(), dsn)
		})
	}
}

func TestBalanceValue(t *testing.T) {
	assert.Equal(t, 12000.0, balanceValue(12_345_678_900, 345_678_900))
	assert.Equal(t, 1.24, balanceValue(1_235_000, 0))
	assert.Equal(t, -2.5, balanceValue(1_000_000, 3_500_000))
	assert.Equal(t, 0.0, balanceValue(0, 0))
}

var _ receiver.Factory = NewFactory()
