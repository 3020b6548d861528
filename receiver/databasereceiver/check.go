package databasereceiver

import (
	"context"
	"crypto/tls"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// checkFunc opens one connection, authenticates, pings and closes it, within ctx's deadline.
type checkFunc func(ctx context.Context, t target, tlsConfig *tls.Config, timeout time.Duration) error

var checks = map[string]checkFunc{
	engineMySQL:      checkMySQL,
	enginePostgreSQL: checkPostgreSQL,
	engineMongoDB:    checkMongoDB,
	engineRedis:      checkRedis,
}

// checkMySQL builds the DSN with the driver's own Config: a password may hold any character.
func checkMySQL(ctx context.Context, t target, tlsConfig *tls.Config, timeout time.Duration) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = t.username, t.password
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", t.addr(), t.dbName
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = timeout, timeout, timeout
	cfg.TLS = tlsConfig
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	conn, err := connector.Connect(ctx) // one connection, no pool
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	return conn.(driver.Pinger).Ping(ctx)
}

// checkPostgreSQL starts from an empty connection string and sets every field, so nothing is
// parsed out of user data.
func checkPostgreSQL(ctx context.Context, t target, tlsConfig *tls.Config, timeout time.Duration) error {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return err
	}
	cfg.Host, cfg.Port = t.host, uint16(t.port) //nolint:gosec // validated 1-65535
	cfg.User, cfg.Password = t.username, t.password
	cfg.Database = t.dbName
	if cfg.Database == "" {
		cfg.Database = "postgres"
	}
	cfg.TLSConfig, cfg.Fallbacks = tlsConfig, nil // exactly what was asked: no silent plaintext fallback
	cfg.ConnectTimeout = timeout
	cfg.RuntimeParams = map[string]string{"application_name": "otelcol-sealos"}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	return conn.Ping(ctx)
}

func checkMongoDB(ctx context.Context, t target, tlsConfig *tls.Config, timeout time.Duration) error {
	source := t.dbName
	if source == "" {
		source = "admin"
	}
	opts := options.Client().SetHosts([]string{t.addr()}).SetDirect(true).
		SetAuth(options.Credential{Username: t.username, Password: t.password, AuthSource: source}).
		SetConnectTimeout(timeout).SetServerSelectionTimeout(timeout).SetTimeout(timeout).
		SetMaxPoolSize(1).SetMinPoolSize(0).SetAppName("otelcol-sealos")
	if tlsConfig != nil {
		opts.SetTLSConfig(tlsConfig)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.WithoutCancel(ctx)) }()
	return withServerError(client.Ping(ctx, readpref.Primary()))
}

// withServerError puts the server's own last error (refused dial, failed handshake) in front of a
// server selection error, which on its own only says that selection timed out.
func withServerError(err error) error {
	var sel topology.ServerSelectionError
	if !errors.As(err, &sel) {
		return err
	}
	for _, srv := range sel.Desc.Servers {
		if srv.LastError != nil {
			return fmt.Errorf("%w; %w", srv.LastError, err)
		}
	}
	return err
}

func checkRedis(ctx context.Context, t target, tlsConfig *tls.Config, timeout time.Duration) error {
	db := 0
	if t.dbName != "" {
		n, err := strconv.Atoi(t.dbName)
		if err != nil {
			return errors.New("redis database must be a number")
		}
		db = n
	}
	client := redis.NewClient(&redis.Options{
		Addr: t.addr(), Username: t.username, Password: t.password, DB: db,
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
		PoolSize: 1, MaxIdleConns: 0, MaxRetries: -1, TLSConfig: tlsConfig,
		Protocol: 2, DisableIdentity: true, // plain AUTH + PING: works on every Redis since 2.x
	})
	defer func() { _ = client.Close() }()
	if err := client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}
