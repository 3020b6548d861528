// Package netclassify turns the error of a failed lookup, connection, TLS handshake or request into
// one short reason, the error_type attribute of every receiver that checks endpoints over the
// network (domain, registryproxy). Each reason comes from a typed error, never from error text.
package netclassify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Reasons: the values of error_type.
const (
	None                 = ""
	DNSNoSuchHost        = "dns_no_such_host"
	DNSTimeout           = "dns_timeout"
	DNSNoAnswer          = "dns_no_answer"
	DNSError             = "dns_error"
	ConnectionRefused    = "connection_refused"
	Timeout              = "timeout"
	TLSHandshake         = "tls_handshake"
	CertExpired          = "cert_expired"
	CertNotYetValid      = "cert_not_yet_valid"
	CertHostnameMismatch = "cert_hostname_mismatch"
	CertUntrusted        = "cert_untrusted"
	HTTPStatus           = "http_status"
	// AuthFailed: the server (or the token service it named) refused the credentials, or asked for
	// credentials that are not configured. Set by receivers that authenticate, not by Reason.
	AuthFailed = "auth_failed"
	Network    = "network"
	Unknown    = "unknown"
)

// HandshakeError marks an error of the TLS handshake (after TCP connected), so that a connection
// closed or reset during the handshake is told apart from one lost later.
type HandshakeError struct{ Err error }

func (e *HandshakeError) Error() string { return "tls handshake: " + e.Err.Error() }
func (e *HandshakeError) Unwrap() error { return e.Err }

// DNS classifies a failed lookup.
func DNS(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return DNSNoSuchHost
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout, IsTimeout(err):
		return DNSTimeout
	default:
		return DNSError
	}
}

// Reason classifies a failed connection, handshake, verification or request; now decides between
// expired and not yet valid (x509 reports both as Expired). nil is None.
func Reason(err error, now time.Time) string {
	if err == nil {
		return None
	}
	var (
		dnsErr     *net.DNSError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		authErr    x509.UnknownAuthorityError
		verifyErr  *tls.CertificateVerificationError
		alertErr   tls.AlertError
		recordErr  tls.RecordHeaderError
		hsErr      *HandshakeError
	)
	switch {
	case errors.As(err, &dnsErr): // e.g. a redirect to a host that does not resolve
		return DNS(err)
	case errors.As(err, &invalidErr):
		if invalidErr.Reason == x509.Expired {
			return Validity(invalidErr.Cert, now)
		}
		return CertUntrusted
	case errors.As(err, &hostErr):
		return CertHostnameMismatch
	case errors.As(err, &authErr), errors.As(err, &verifyErr):
		return CertUntrusted
	case IsTimeout(err):
		return Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ConnectionRefused
	case errors.As(err, &alertErr), errors.As(err, &recordErr), errors.As(err, &hsErr):
		return TLSHandshake
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Network
	default:
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			return Network
		}
		return Unknown
	}
}

// Validity tells expired from not yet valid for a certificate outside its window at now.
func Validity(cert *x509.Certificate, now time.Time) string {
	if cert != nil && now.Before(cert.NotBefore) {
		return CertNotYetValid
	}
	return CertExpired
}

// IsTimeout reports a deadline: the context's, a socket's, or a net.Error that says so.
func IsTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}
