package domainreceiver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestReasonFromTypedErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	notYet := &x509.Certificate{NotBefore: testNow.Add(time.Hour), NotAfter: testNow.Add(2 * time.Hour)}
	expired := &x509.Certificate{NotBefore: testNow.Add(-2 * time.Hour), NotAfter: testNow.Add(-time.Hour)}
	tests := map[string]struct {
		err  error
		want string
	}{
		"success": {nil, reasonNone},
		// The predecessor matched "404"/"500" anywhere in the text, URL included.
		"refused, URL with 404 and 500": {&url.Error{Op: "Get", URL: "https://a.example:8404/500", Err: refused}, reasonConnectionRefused},
		"redirect host not found":       {&url.Error{Op: "Get", URL: "https://b.example/", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Name: "b.example", IsNotFound: true}}}, reasonDNSNoSuchHost},
		"context deadline":              {fmt.Errorf("get: %w", context.DeadlineExceeded), reasonTimeout},
		"i/o deadline":                  {&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, reasonTimeout},
		"expired":                       {&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: expired, Reason: x509.Expired}}, reasonCertExpired},
		"not yet valid":                 {&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: notYet, Reason: x509.Expired}}, reasonCertNotYetValid},
		"other invalid":                 {x509.CertificateInvalidError{Cert: expired, Reason: x509.NotAuthorizedToSign}, reasonCertUntrusted},
		"hostname":                      {&tls.CertificateVerificationError{Err: x509.HostnameError{Host: "x"}}, reasonCertHostnameMismatch},
		"unknown authority":             {&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, reasonCertUntrusted},
		"alert":                         {&handshakeError{err: tls.AlertError(40)}, reasonTLSHandshake},
		"not TLS":                       {&handshakeError{err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, reasonTLSHandshake},
		"closed during handshake":       {&handshakeError{err: io.EOF}, reasonTLSHandshake},
		"reset":                         {&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, reasonNetwork},
		"unreachable":                   {&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, reasonNetwork},
		"text only":                     {errors.New("unexpected status code 500: certificate expired, no such host"), reasonUnknown},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tt.want, reason(tt.err, testNow))
		})
	}
}

func TestDNSReason(t *testing.T) {
	assert.Equal(t, reasonDNSNoSuchHost, dnsReason(&net.DNSError{IsNotFound: true}))
	assert.Equal(t, reasonDNSTimeout, dnsReason(&net.DNSError{IsTimeout: true}))
	assert.Equal(t, reasonDNSTimeout, dnsReason(context.DeadlineExceeded))
	assert.Equal(t, reasonDNSError, dnsReason(&net.DNSError{Err: "server misbehaving"}))
}
