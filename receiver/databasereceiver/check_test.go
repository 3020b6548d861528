package databasereceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/dbtest"
)

const testTimeout = 3 * time.Second

// runCheck checks t the way a cycle does and returns the error_type.
func runCheck(t *testing.T, tg target) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return classify(ctx, checks[tg.engine](ctx, tg, nil, testTimeout+driverSlack))
}

func localTarget(engine, addr string, a dbtest.Account) target {
	host, port, _ := splitEndpoint(addr)
	return target{namespace: "ns", database: "db", engine: engine, host: host, port: port, username: a.User, password: a.Password, dbName: a.Database}
}

// engineAccounts creates, on each real server, an account whose password has @ : / and quotes.
func engineAccounts(t *testing.T) map[string]target {
	t.Helper()
	pg := dbtest.ConnectPostgres(t).CreateAccount(t, "dbrecv", dbtest.SpecialPassword)
	my := dbtest.ConnectMySQL(t).CreateAccount(t, "dbrecv", dbtest.SpecialPassword)
	rd := dbtest.ConnectRedis(t).CreateAccount(t, "dbrecv", dbtest.SpecialPassword)
	fe := dbtest.StartFerretDB(t, "root", dbtest.SpecialPassword)
	return map[string]target{
		enginePostgreSQL: localTarget(enginePostgreSQL, dbtest.PostgresAddr, pg),
		engineMySQL:      localTarget(engineMySQL, dbtest.MySQLAddr, my),
		engineRedis:      localTarget(engineRedis, dbtest.RedisAddr, dbtest.Account{User: rd.User, Password: rd.Password}),
		engineMongoDB:    localTarget(engineMongoDB, fe.Addr, dbtest.Account{User: fe.User, Password: fe.Password}),
	}
}

func TestCheckEveryEngineWithSpecialCharacterPasswords(t *testing.T) {
	for engine, tg := range engineAccounts(t) {
		t.Run(engine, func(t *testing.T) {
			assert.Equal(t, errNone, runCheck(t, tg))
			wrong := tg
			wrong.password += "x"
			assert.Equal(t, errAuthFailed, runCheck(t, wrong), "wrong password")
		})
	}
}

func TestCheckClosedPortIsConnectionRefused(t *testing.T) {
	port := dbtest.ClosedPort(t)
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			tg := target{engine: engine, host: "127.0.0.1", port: port, username: "u", password: "p"}
			assert.Equal(t, errConnectionRefused, runCheck(t, tg))
		})
	}
}

func TestCheckStoppedFerretDBIsConnectionRefused(t *testing.T) {
	fe := dbtest.StartFerretDB(t, "root", "secret")
	tg := localTarget(engineMongoDB, fe.Addr, dbtest.Account{User: "root", Password: "secret"})
	require.Equal(t, errNone, runCheck(t, tg))
	fe.Stop()
	assert.Equal(t, errConnectionRefused, runCheck(t, tg))
}

func TestCheckSilentServerIsTimeout(t *testing.T) {
	port := dbtest.SilentServer(t)
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			tg := target{engine: engine, host: "127.0.0.1", port: port, username: "u", password: "p"}
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			began := time.Now()
			err := checks[engine](ctx, tg, nil, 500*time.Millisecond+driverSlack)
			assert.Equal(t, errTimeout, classify(ctx, err), "error %v", err)
			assert.Less(t, time.Since(began), 5*time.Second, "the check outlived its timeout")
		})
	}
}

func TestCheckUnknownHostIsDNS(t *testing.T) {
	tg := target{engine: engineRedis, host: "no-such-host.invalid", port: 6379}
	assert.Equal(t, errDNS, runCheck(t, tg))
}
