package domainreceiver

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

// Failure reasons, the error_type attribute. Each comes from a typed error, never from error text.
const (
	reasonNone                 = ""
	reasonDNSNoSuchHost        = "dns_no_such_host"
	reasonDNSTimeout           = "dns_timeout"
	reasonDNSNoAnswer          = "dns_no_answer"
	reasonDNSError             = "dns_error"
	reasonConnectionRefused    = "connection_refused"
	reasonTimeout              = "timeout"
	reasonTLSHandshake         = "tls_handshake"
	reasonCertExpired          = "cert_expired"
	reasonCertNotYetValid      = "cert_not_yet_valid"
	reasonCertHostnameMismatch = "cert_hostname_mismatch"
	reasonCertUntrusted        = "cert_untrusted"
	reasonHTTPStatus           = "http_status"
	reasonNetwork              = "network"
	reasonUnknown              = "unknown"
)

// handshakeError marks an error of the TLS handshake (after TCP connected).
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "tls handshake: " + e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }

// dnsReason classifies a failed lookup.
func dnsReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return reasonDNSNoSuchHost
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout, isTimeout(err):
		return reasonDNSTimeout
	default:
		return reasonDNSError
	}
}

// reason classifies a failed connection, handshake, verification or request; now decides between
// expired and not yet valid (x509 reports both as Expired).
func reason(err error, now time.Time) string {
	if err == nil {
		return reasonNone
	}
	var (
		dnsErr     *net.DNSError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		authErr    x509.UnknownAuthorityError
		verifyErr  *tls.CertificateVerificationError
		alertErr   tls.AlertError
		recordErr  tls.RecordHeaderError
		hsErr      *handshakeError
	)
	switch {
	case errors.As(err, &dnsErr): // a redirect to a host that does not resolve
		return dnsReason(err)
	case errors.As(err, &invalidErr):
		if invalidErr.Reason == x509.Expired {
			return validityReason(invalidErr.Cert, now)
		}
		return reasonCertUntrusted
	case errors.As(err, &hostErr):
		return reasonCertHostnameMismatch
	case errors.As(err, &authErr), errors.As(err, &verifyErr):
		return reasonCertUntrusted
	case isTimeout(err):
		return reasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return reasonConnectionRefused
	case errors.As(err, &alertErr), errors.As(err, &recordErr), errors.As(err, &hsErr):
		return reasonTLSHandshake
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return reasonNetwork
	default:
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			return reasonNetwork
		}
		return reasonUnknown
	}
}

// validityReason tells expired from not yet valid for a certificate outside its window at now.
func validityReason(cert *x509.Certificate, now time.Time) string {
	if cert != nil && now.Before(cert.NotBefore) {
		return reasonCertNotYetValid
	}
	return reasonCertExpired
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}
