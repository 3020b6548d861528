package cockroachtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerAnswersTheLicenseQuery(t *testing.T) {
	s := StartT(t, "root", "p@ss:w/rd")
	l := License{ValidUntil: time.Unix(1_900_000_000, 0), Type: TypeEnterprise, OrganizationName: "Sealos"}
	s.SetLicense(l.Encode())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "host=127.0.0.1 port="+s.Addr[strings.LastIndex(s.Addr, ":")+1:]+" user=root password=p@ss:w/rd sslmode=prefer")
	require.NoError(t, err, "TLS is refused and the client continues without it")
	defer func() { _ = conn.Close(ctx) }()
	var got string
	require.NoError(t, conn.QueryRow(ctx, LicenseQuery, pgx.QueryExecModeSimpleProtocol).Scan(&got))
	assert.Equal(t, l.Encode(), got)
	assert.True(t, strings.HasPrefix(got, "crl-0-"))

	s.SetError("42501", "user root does not have VIEWCLUSTERSETTING privilege")
	err = conn.QueryRow(ctx, LicenseQuery, pgx.QueryExecModeSimpleProtocol).Scan(&got)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "42501", pgErr.Code)
	assert.Equal(t, int64(2), s.Queries())

	_, err = pgx.Connect(ctx, strings.Replace(s.DSN(), "p%40ss", "wrong", 1))
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "28P01", pgErr.Code)
}
