package netclassify

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

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestReasonFromTypedErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	notYet := &x509.Certificate{NotBefore: now.Add(time.Hour), NotAfter: now.Add(2 * time.Hour)}
	expired := &x509.Certificate{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}
	tests := map[string]struct {
		err  error
		want string
	}{
		"success": {nil, None},
		// The predecessor matched "404"/"500" anywhere in the text, URL included.
		"refused, URL with 404 and 500": {&url.Error{Op: "Get", URL: "https://a.example:8404/500", Err: refused}, ConnectionRefused},
		"redirect host not found":       {&url.Error{Op: "Get", URL: "https://b.example/", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Name: "b.example", IsNotFound: true}}}, DNSNoSuchHost},
		"context deadline":              {fmt.Errorf("get: %w", context.DeadlineExceeded), Timeout},
		"i/o deadline":                  {&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, Timeout},
		"expired":                       {&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: expired, Reason: x509.Expired}}, CertExpired},
		"not yet valid":                 {&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: notYet, Reason: x509.Expired}}, CertNotYetValid},
		"other invalid":                 {x509.CertificateInvalidError{Cert: expired, Reason: x509.NotAuthorizedToSign}, CertUntrusted},
		"hostname":                      {&tls.CertificateVerificationError{Err: x509.HostnameError{Host: "x"}}, CertHostnameMismatch},
		"unknown authority":             {&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, CertUntrusted},
		"alert":                         {&HandshakeError{Err: tls.AlertError(40)}, TLSHandshake},
		"not TLS":                       {&HandshakeError{Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, TLSHandshake},
		"closed during handshake":       {&HandshakeError{Err: io.EOF}, TLSHandshake},
		"closed after handshake":        {fmt.Errorf("read: %w", io.EOF), Network},
		"reset":                         {&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, Network},
		"unreachable":                   {&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, Network},
		"text only":                     {errors.New("unexpected status code 500: certificate expired, no such host"), Unknown},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tt.want, Reason(tt.err, now))
		})
	}
}

func TestDNS(t *testing.T) {
	assert.Equal(t, DNSNoSuchHost, DNS(&net.DNSError{IsNotFound: true}))
	assert.Equal(t, DNSTimeout, DNS(&net.DNSError{IsTimeout: true}))
	assert.Equal(t, DNSTimeout, DNS(context.DeadlineExceeded))
	assert.Equal(t, DNSError, DNS(&net.DNSError{Err: "server misbehaving"}))
}

// A real refused connection, classified end to end.
func TestReasonFromRealRefusal(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	_, err = net.DialTimeout("tcp", addr, time.Second)
	assert.Equal(t, ConnectionRefused, Reason(err, now))
}
