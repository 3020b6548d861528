package databasereceiver

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/databasereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/series"
)

func targetConfig(name, engine, addr string, a dbtest.Account) TargetConfig {
	return TargetConfig{Name: name, Namespace: "static", Engine: engine, Endpoint: addr, Username: a.User, Password: configopaque.String(a.Password), Database: a.Database}
}

// collectOnce starts a targets-only source and runs one cycle.
func collectOnce(t *testing.T, cfg *Config) pmetric.Metrics {
	t.Helper()
	s := newDatabaseSource(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	md, err := s.Collect(context.Background())
	require.NoError(t, err)
	return md
}

func targetsConfig(targets ...TargetConfig) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Discover = false
	cfg.CheckTimeout = testTimeout
	cfg.Targets = targets
	return cfg
}

// TestCollectGolden checks one of each outcome against the real servers: every engine up
// (passwords with special characters), a wrong password, a refused port, a silent port.
func TestCollectGolden(t *testing.T) {
	pg := dbtest.ConnectPostgres(t).CreateAccount(t, "golden", dbtest.SpecialPassword)
	my := dbtest.ConnectMySQL(t).CreateAccount(t, "golden", dbtest.SpecialPassword)
	rd := dbtest.ConnectRedis(t).CreateAccount(t, "golden", dbtest.SpecialPassword)
	fe := dbtest.StartFerretDB(t, "root", dbtest.SpecialPassword)
	wrong := my
	wrong.Password = "wrong"
	closed := "127.0.0.1:" + strconv.Itoa(dbtest.ClosedPort(t))
	silent := "127.0.0.1:" + strconv.Itoa(dbtest.SilentServer(t))

	cfg := targetsConfig(
		targetConfig("pg", enginePostgreSQL, dbtest.PostgresAddr, pg),
		targetConfig("my", engineMySQL, dbtest.MySQLAddr, my),
		targetConfig("my-wrong-password", engineMySQL, dbtest.MySQLAddr, wrong),
		targetConfig("rd", engineRedis, dbtest.RedisAddr, dbtest.Account{User: rd.User, Password: rd.Password}),
		targetConfig("mongo", engineMongoDB, fe.Addr, dbtest.Account{User: fe.User, Password: fe.Password}),
		targetConfig("rd-refused", engineRedis, closed, dbtest.Account{}),
		targetConfig("pg-silent", enginePostgreSQL, silent, pg),
	)
	// The silent server's check ends at check_timeout; every other one must end well before it,
	// also on two loaded cores under -race, so the bound is generous and only the order is asserted.
	cfg.CheckTimeout = 5 * time.Second
	md := collectOnce(t, cfg)

	path := filepath.Join("testdata", "expected_metrics", "targets.yaml")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreMetricDataPointsOrder(),
		pmetrictest.IgnoreMetricValues("database.response_time")))

	// Response times are real: the silent server took the whole check timeout, the others less.
	got := series.Of(md)
	silentTook := got[`database.response_time{database="pg-silent",namespace="static",type="postgresql"}`]
	assert.GreaterOrEqual(t, silentTook, cfg.CheckTimeout.Seconds())
	assert.Less(t, got[`database.response_time{database="rd",namespace="static",type="redis"}`], silentTook)
}

// inFlight counts calls open at once, by key and in total.
type inFlight struct {
	mu         sync.Mutex
	open, peak map[string]int
}

func (f *inFlight) enter(keys ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		f.open[k]++
		f.peak[k] = max(f.peak[k], f.open[k])
	}
}

func (f *inFlight) leave(keys ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		f.open[k]--
	}
}

// concurrency::<engine> bounds each engine's checks in flight, and engines run side by side:
// against a server that never answers, every worker of both engines is in a check at once. The
// real checks are counted where the source calls them.
func TestConcurrencyIsPerEngine(t *testing.T) {
	silent := "127.0.0.1:" + strconv.Itoa(dbtest.SilentServer(t))
	var targets []TargetConfig
	for i := range 6 {
		targets = append(targets,
			TargetConfig{Name: fmt.Sprint("rd", i), Engine: engineRedis, Endpoint: silent},
			TargetConfig{Name: fmt.Sprint("pg", i), Engine: enginePostgreSQL, Endpoint: silent, Username: "u"})
	}
	cfg := targetsConfig(targets...)
	cfg.CheckTimeout = time.Second
	cfg.Concurrency.Redis, cfg.Concurrency.PostgreSQL = 2, 3
	s := newDatabaseSource(cfg, receivertest.NewNopSettings(metadata.Type))
	counted := &inFlight{open: map[string]int{}, peak: map[string]int{}}
	s.check = map[string]checkFunc{}
	for engine, check := range checks {
		s.check[engine] = func(ctx context.Context, tg target, tc *tls.Config, timeout time.Duration) error {
			counted.enter(engine, "all")
			defer counted.leave(engine, "all")
			return check(ctx, tg, tc, timeout)
		}
	}
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	md, err := s.Collect(context.Background())
	require.NoError(t, err)
	require.Equal(t, 12.0, series.Of(md)[`database.unavailable{type="all"}`], "every check ended at its timeout")
	assert.Equal(t, map[string]int{engineRedis: 2, enginePostgreSQL: 3, "all": 5}, counted.peak,
		"checks in flight per engine, and both engines at once")
}

// TestConnectionsClosedAfterEachCheck counts the server-side sessions of the checking user after a cycle.
func TestConnectionsClosedAfterEachCheck(t *testing.T) {
	pgAdmin, myAdmin, rdAdmin := dbtest.ConnectPostgres(t), dbtest.ConnectMySQL(t), dbtest.ConnectRedis(t)
	pg := pgAdmin.CreateAccount(t, "closed", "pw")
	my := myAdmin.CreateAccount(t, "closed", "pw")
	rd := rdAdmin.CreateAccount(t, "closed", "pw")
	var targets []TargetConfig
	for i := range 5 {
		targets = append(targets,
			targetConfig(fmt.Sprint("pg", i), enginePostgreSQL, dbtest.PostgresAddr, pg),
			targetConfig(fmt.Sprint("my", i), engineMySQL, dbtest.MySQLAddr, my),
			targetConfig(fmt.Sprint("rd", i), engineRedis, dbtest.RedisAddr, dbtest.Account{User: rd.User, Password: rd.Password}))
	}
	got := series.Of(collectOnce(t, targetsConfig(targets...)))
	require.Equal(t, 15.0, got[`database.available{type="all"}`], "%v", got)

	sessions := func() [3]int64 {
		var clients int64
		list, err := rdAdmin.Client.ClientList(context.Background()).Result()
		require.NoError(t, err)
		clients = int64(countField(list, "user="+rd.User))
		return [3]int64{
			pgAdmin.QueryInt(t, "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", pg.User),
			myAdmin.QueryInt(t, "SELECT count(*) FROM information_schema.processlist WHERE user = '"+my.User+"'"),
			clients,
		}
	}
	// A server notices a closed session a moment after the client closed it.
	require.Eventually(t, func() bool { return sessions() == [3]int64{} }, 10*time.Second, 50*time.Millisecond, "open sessions (pg, mysql, redis): %v", sessions())
}

func countField(list, field string) int {
	n := 0
	for _, line := range strings.Split(list, "\n") {
		for _, f := range strings.Fields(line) {
			if f == field {
				n++
			}
		}
	}
	return n
}
