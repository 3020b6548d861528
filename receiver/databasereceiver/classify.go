package databasereceiver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Values of the error_type attribute.
const (
	errNone              = ""
	errAuthFailed        = "auth_failed"
	errTimeout           = "timeout"
	errConnectionRefused = "connection_refused"
	errDNS               = "dns"
	errNoService         = "no_service"
	errNoEndpoints       = "no_endpoints"
	errTLS               = "tls"
	errUnknown           = "unknown"
)

// Server error codes for failed authentication.
const (
	mysqlAccessDenied         = 1045 // ER_ACCESS_DENIED_ERROR
	pgInvalidPassword         = "28P01"
	pgInvalidAuthorization    = "28000"
	mongoAuthenticationFailed = 18
)

// classify maps a check error to an error_type from typed errors and protocol codes, never from
// free text; checkCtx is the check's context, whose deadline explains errors drivers wrap loosely.
func classify(checkCtx context.Context, err error) string {
	if err == nil {
		return errNone
	}
	if isAuthFailure(err) {
		return errAuthFailed
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return errTimeout
		}
		return errDNS
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return errConnectionRefused
	}
	if isTLSFailure(err) {
		return errTLS
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout()) || mongo.IsTimeout(err) ||
		errors.Is(checkCtx.Err(), context.DeadlineExceeded) {
		return errTimeout
	}
	return errUnknown
}

func isAuthFailure(err error) bool {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == mysqlAccessDenied
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgInvalidPassword || pgErr.Code == pgInvalidAuthorization
	}
	var cmdErr mongo.CommandError
	if errors.As(err, &cmdErr) && cmdErr.Code == mongoAuthenticationFailed {
		return true
	}
	var srvErr mongo.ServerError
	if errors.As(err, &srvErr) && srvErr.HasErrorCode(mongoAuthenticationFailed) {
		return true
	}
	var redisErr redis.Error
	if errors.As(err, &redisErr) {
		// The first word of a RESP error is its code (WRONGPASS since Redis 6, NOAUTH before AUTH).
		code, _, _ := strings.Cut(redisErr.Error(), " ")
		return code == "WRONGPASS" || code == "NOAUTH"
	}
	return false
}

func isTLSFailure(err error) bool {
	var (
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		verifyErr   *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
	)
	return errors.As(err, &recordErr) || errors.As(err, &alertErr) || errors.As(err, &verifyErr) ||
		errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}
