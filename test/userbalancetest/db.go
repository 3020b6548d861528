// Package userbalancetest creates throw-away PostgreSQL databases with the Sealos billing schema
// ("User" and "Account", as the userbalance receiver reads them) on a real server.
package userbalancetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// AdminDSN is $OTELCOL_SEALOS_PG_DSN, else the local server of the developers' guide.
func AdminDSN() string {
	if dsn := os.Getenv("OTELCOL_SEALOS_PG_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Schema is the part of the Sealos account service's tables the receiver reads, with the
// neighbouring columns so the query runs against a realistic shape.
const Schema = `
CREATE TABLE "User" (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  nickname text,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE "Account" (
  "userUid" uuid PRIMARY KEY,
  "activityBonus" bigint NOT NULL DEFAULT 0,
  "encryptBalance" text,
  "encryptDeductionBalance" text,
  create_region_id text,
  balance bigint,
  deduction_balance bigint,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);`

// User is one row of "User" and, unless NoAccount, its "Account" row; nil amounts are NULL.
type User struct {
	ID        string
	Balance   *int64
	Deduction *int64
	NoAccount bool
}

// Amount is a helper for User literals.
func Amount(v int64) *int64 { return &v }

// Database is a fresh database on the server.
type Database struct {
	Name string
	DSN  string
}

// Create makes a database with a random name on the server adminDSN points at and loads Schema.
func Create(ctx context.Context, adminDSN, prefix string) (*Database, error) {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := prefix + "_" + hex.EncodeToString(suffix)
	if err := Exec(ctx, adminDSN, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("admin DSN is not a URL: %w", err)
	}
	u.Path = "/" + name
	db := &Database{Name: name, DSN: u.String()}
	if err := Exec(ctx, db.DSN, Schema); err != nil {
		_ = db.Drop(ctx, adminDSN)
		return nil, fmt.Errorf("loading the schema: %w", err)
	}
	return db, nil
}

// Drop removes the database, closing any connection to it.
func (d *Database) Drop(ctx context.Context, adminDSN string) error {
	return Exec(ctx, adminDSN, `DROP DATABASE IF EXISTS `+pgx.Identifier{d.Name}.Sanitize()+` WITH (FORCE)`)
}

// AddUsers inserts users.
func (d *Database) AddUsers(ctx context.Context, users ...User) error {
	conn, err := connect(ctx, d.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	for _, u := range users {
		var uid string
		if err := conn.QueryRow(ctx, `INSERT INTO "User" (id, name) VALUES ($1, $1) RETURNING uid::text`, u.ID).Scan(&uid); err != nil {
			return fmt.Errorf("inserting user %s: %w", u.ID, err)
		}
		if u.NoAccount {
			continue
		}
		if _, err := conn.Exec(ctx, `INSERT INTO "Account" ("userUid", "encryptBalance", balance, deduction_balance) VALUES ($1, 'unused', $2, $3)`, uid, u.Balance, u.Deduction); err != nil {
			return fmt.Errorf("inserting the account of %s: %w", u.ID, err)
		}
	}
	return nil
}

// SetBalance updates one user's balance.
func (d *Database) SetBalance(ctx context.Context, id string, balance int64) error {
	conn, err := connect(ctx, d.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, `UPDATE "Account" SET balance = $2 WHERE "userUid" = (SELECT uid FROM "User" WHERE id = $1)`, id, balance)
	return err
}

// AllowConnections turns new connections to the database on or off; off also ends the open ones,
// so the database is "down" for clients while the server stays up.
func (d *Database) AllowConnections(ctx context.Context, adminDSN string, allow bool) error {
	if err := Exec(ctx, adminDSN, fmt.Sprintf(`ALTER DATABASE %s ALLOW_CONNECTIONS %t`, pgx.Identifier{d.Name}.Sanitize(), allow)); err != nil {
		return err
	}
	if allow {
		return nil
	}
	return Exec(ctx, adminDSN, fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()`, quote(d.Name)))
}

// Exec runs sql on a short-lived connection.
func Exec(ctx context.Context, dsn, sql string) error {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, sql)
	return err
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return pgx.Connect(ctx, dsn)
}

// quote is a SQL string literal, for statements that take no parameters (ALTER DATABASE).
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// CreateT creates a database for one test (name prefixed with the receiver's name) and drops it
// when the test ends. Skipped with -short.
func CreateT(t testing.TB, users ...User) *Database {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local PostgreSQL server; skipped with -short")
	}
	ctx := context.Background()
	db, err := Create(ctx, AdminDSN(), "otelcol_ub")
	if err != nil {
		t.Fatalf("PostgreSQL at %s (set OTELCOL_SEALOS_PG_DSN): %v", redactedAdmin(), err)
	}
	t.Cleanup(func() {
		if err := db.Drop(context.Background(), AdminDSN()); err != nil {
			t.Errorf("dropping database %s: %v", db.Name, err)
		}
	})
	if err := db.AddUsers(ctx, users...); err != nil {
		t.Fatal(err)
	}
	return db
}

func redactedAdmin() string {
	u, err := url.Parse(AdminDSN())
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
