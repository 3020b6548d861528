package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Addresses of the local servers (override with DBTEST_POSTGRES_ADDR, DBTEST_MYSQL_ADDR, DBTEST_REDIS_ADDR).
var (
	PostgresAddr = envOr("DBTEST_POSTGRES_ADDR", "127.0.0.1:5432")
	MySQLAddr    = envOr("DBTEST_MYSQL_ADDR", "127.0.0.1:3306")
	RedisAddr    = envOr("DBTEST_REDIS_ADDR", "127.0.0.1:6379")
)

// SpecialPassword has every character that broke the predecessor's hand-built DSNs and URLs.
const SpecialPassword = `p@ss:w/rd?#%&='"\ ;`

// Account is a database login created for a test.
type Account struct {
	User, Password, Database string
}

const adminTimeout = 30 * time.Second

// dropTimeout bounds DROP DATABASE, which waits for a checkpoint: over a minute on a busy machine.
const dropTimeout = 5 * time.Minute

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// UniqueName is prefix plus random hex: lower case, a valid identifier everywhere.
func UniqueName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local database servers; skipped with -short")
	}
}

// Postgres is an admin connection to the local PostgreSQL (user postgres, trust auth).
type Postgres struct{ conn *pgx.Conn }

// ConnectPostgres connects as the admin; closed when the test ends.
func ConnectPostgres(t testing.TB) *Postgres {
	t.Helper()
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, PostgresAddr)
	cfg.Host, cfg.Port, cfg.User, cfg.Database, cfg.TLSConfig, cfg.Fallbacks = host, uint16(port), "postgres", "postgres", nil, nil //nolint:gosec // a port
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("PostgreSQL %s as postgres: %v (run test/services/start.sh)", PostgresAddr, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return &Postgres{conn: conn}
}

// Exec runs admin SQL.
func (p *Postgres) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	p.exec(t, adminTimeout, sql, args...)
}

// exec runs admin SQL within timeout. A timeout closes a pgx connection: keep it generous.
func (p *Postgres) exec(t testing.TB, timeout time.Duration, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := p.conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("postgres %q: %v", sql, err)
	}
}

// QueryInt runs a query returning one integer.
func (p *Postgres) QueryInt(t testing.TB, sql string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	var n int64
	if err := p.conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("postgres %q: %v", sql, err)
	}
	return n
}

// PasswordAuthGroup is the role whose members must log in with their password: the local server
// trusts 127.0.0.1, and test/services/start.sh puts this group first in pg_hba.conf.
const PasswordAuthGroup = "otelcol_password_auth"

// CreateAccount creates a login role (which must use its password) and a database it owns; both
// are dropped when the test ends.
func (p *Postgres) CreateAccount(t testing.TB, prefix, password string) Account {
	t.Helper()
	p.requirePasswordAuth(t)
	a := Account{User: UniqueName(prefix), Password: password}
	a.Database = a.User
	role := pgx.Identifier{a.User}.Sanitize()
	p.Exec(t, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s IN ROLE %s", role, pgLiteral(password), PasswordAuthGroup))
	p.Exec(t, fmt.Sprintf("CREATE DATABASE %s OWNER %s", role, role))
	t.Cleanup(func() {
		p.exec(t, dropTimeout, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", role))
		p.Exec(t, fmt.Sprintf("DROP ROLE IF EXISTS %s", role))
	})
	return a
}

// CreateRole creates a login role (which must use its password) without a database of its own
// (it can connect to postgres); dropped when the test ends. Cheaper than CreateAccount when a test
// needs hundreds: DROP DATABASE waits for a checkpoint.
func (p *Postgres) CreateRole(t testing.TB, prefix, password string) Account {
	t.Helper()
	p.requirePasswordAuth(t)
	a := Account{User: UniqueName(prefix), Password: password, Database: "postgres"}
	role := pgx.Identifier{a.User}.Sanitize()
	p.Exec(t, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s IN ROLE %s", role, pgLiteral(password), PasswordAuthGroup))
	t.Cleanup(func() { p.Exec(t, fmt.Sprintf("DROP ROLE IF EXISTS %s", role)) })
	return a
}

func (p *Postgres) requirePasswordAuth(t testing.TB) {
	t.Helper()
	if p.QueryInt(t, "SELECT count(*) FROM pg_hba_file_rules WHERE $1 = ANY(user_name) AND auth_method = 'scram-sha-256'", "+"+PasswordAuthGroup) == 0 {
		t.Fatalf("pg_hba.conf does not make %s use passwords: run test/services/start.sh", PasswordAuthGroup)
	}
}

// pgLiteral quotes s as a standard SQL string literal (standard_conforming_strings is on).
func pgLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// MySQL is an admin connection to the local MariaDB/MySQL (root, no password).
type MySQL struct{ db *sql.DB }

// ConnectMySQL connects as root; closed when the test ends.
func ConnectMySQL(t testing.TB) *MySQL {
	t.Helper()
	skipShort(t)
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", MySQLAddr
	cfg.InterpolateParams = true // client-side escaping, so DDL can take the password as a parameter
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("MySQL %s as root: %v (run test/services/start.sh)", MySQLAddr, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return &MySQL{db: db}
}

// Exec runs admin SQL.
func (m *MySQL) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if _, err := m.db.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("mysql %q: %v", query, err)
	}
}

// QueryInt runs a query whose last column of the first row is an integer (SHOW STATUS works).
func (m *MySQL) QueryInt(t testing.TB, query string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	rows, err := m.db.QueryContext(ctx, query)
	if err != nil {
		t.Fatalf("mysql %q: %v", query, err)
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		t.Fatalf("mysql %q: no rows", query)
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	var n int64
	if _, err := fmt.Sscan(string(vals[len(vals)-1]), &n); err != nil {
		t.Fatalf("mysql %q: %v", query, err)
	}
	return n
}

// CreateAccount creates a user (from any host) and a database it owns; both are dropped when the test ends.
func (m *MySQL) CreateAccount(t testing.TB, prefix, password string) Account {
	t.Helper()
	a := Account{User: UniqueName(prefix), Password: password}
	a.Database = a.User
	m.Exec(t, "CREATE USER ?@'%' IDENTIFIED BY ?", a.User, password)
	m.Exec(t, "CREATE DATABASE `"+a.Database+"`")
	m.Exec(t, "GRANT ALL ON `"+a.Database+"`.* TO ?@'%'", a.User)
	t.Cleanup(func() {
		m.Exec(t, "DROP DATABASE IF EXISTS `"+a.Database+"`")
		m.Exec(t, "DROP USER IF EXISTS ?@'%'", a.User)
	})
	return a
}

// Redis is a client of the local Redis (default user, no password).
type Redis struct{ Client *redis.Client }

// ConnectRedis connects; closed when the test ends.
func ConnectRedis(t testing.TB) *Redis {
	t.Helper()
	skipShort(t)
	c := redis.NewClient(&redis.Options{Addr: RedisAddr, Protocol: 2, DisableIdentity: true})
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("Redis %s: %v (run test/services/start.sh)", RedisAddr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &Redis{Client: c}
}

// CreateAccount creates an ACL user allowed every command; deleted when the test ends.
func (r *Redis) CreateAccount(t testing.TB, prefix, password string) Account {
	t.Helper()
	a := Account{User: UniqueName(prefix), Password: password}
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if err := r.Client.Do(ctx, "ACL", "SETUSER", a.User, "on", ">"+password, "~*", "+@all").Err(); err != nil {
		t.Fatalf("redis ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { _ = r.Client.Do(context.Background(), "ACL", "DELUSER", a.User).Err() })
	return a
}

func splitAddr(t testing.TB, addr string) (string, int) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	var port int
	if _, err := fmt.Sscan(addr[i+1:], &port); i < 0 || err != nil {
		t.Fatalf("bad address %q", addr)
	}
	return addr[:i], port
}
