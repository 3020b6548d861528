package databasereceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/series"
)

// TestTargetsOverTLS reaches Redis and FerretDB through a TLS-terminating proxy: verified with the
// proxy's CA it connects; against the system roots the unknown CA is error_type tls; without a tls
// block the plaintext client cannot talk to a TLS port.
func TestTargetsOverTLS(t *testing.T) {
	rd := dbtest.ConnectRedis(t).CreateAccount(t, "tls", dbtest.SpecialPassword)
	fe := dbtest.StartFerretDB(t, "root", dbtest.SpecialPassword)
	redisTLS, redisCA := dbtest.TLSProxy(t, dbtest.RedisAddr)
	mongoTLS, mongoCA := dbtest.TLSProxy(t, fe.Addr)

	withTLS := func(tc TargetConfig, tls *configtls.ClientConfig) TargetConfig { tc.TLS = tls; return tc }
	rdAcc := dbtest.Account{User: rd.User, Password: rd.Password}
	feAcc := dbtest.Account{User: fe.User, Password: fe.Password}
	caTLS := func(ca string) *configtls.ClientConfig {
		return &configtls.ClientConfig{Config: configtls.Config{CAFile: ca}}
	}
	cfg := targetsConfig(
		withTLS(targetConfig("redis-ca", engineRedis, redisTLS, rdAcc), caTLS(redisCA)),
		withTLS(targetConfig("redis-system-roots", engineRedis, redisTLS, rdAcc), &configtls.ClientConfig{}),
		withTLS(targetConfig("mongo-ca", engineMongoDB, mongoTLS, feAcc), caTLS(mongoCA)),
		withTLS(targetConfig("mongo-system-roots", engineMongoDB, mongoTLS, feAcc), &configtls.ClientConfig{}),
	)
	got := series.WithPrefix(series.Of(collectOnce(t, cfg)), "database.connectivity")
	conn := func(db, typ, et string) string {
		return series.Format("database.connectivity", map[string]string{"namespace": "static", "database": db, "type": typ, "error_type": et})
	}
	require.Equal(t, map[string]float64{
		conn("redis-ca", "redis", ""):                1,
		conn("redis-system-roots", "redis", "tls"):   0,
		conn("mongo-ca", "mongodb", ""):              1,
		conn("mongo-system-roots", "mongodb", "tls"): 0,
	}, got)
}

func TestTargetTLSFileErrorNamesTheTarget(t *testing.T) {
	cfg := targetsConfig(TargetConfig{Name: "x", Engine: engineRedis, Endpoint: "127.0.0.1:6379",
		TLS: &configtls.ClientConfig{Config: configtls.Config{CAFile: "/no/such/ca.pem"}}})
	_, err := staticTargets(t.Context(), cfg.Targets)
	require.Error(t, err)
	assert.ErrorContains(t, err, "targets[0].tls:")
}
