package domainreceiver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// targetResult is what one cycle learnt about one target.
type targetResult struct {
	lookup    time.Duration
	dnsReason string
	ips       []ipResult
}

type ipResult struct {
	addr netip.Addr
	http httpResult
	cert certResult
}

type httpResult struct {
	reason    string
	responded bool
	took      time.Duration
}

type certResult struct {
	reason string
	leaf   *x509.Certificate // nil when no certificate was read
	took   time.Duration     // connect, handshake and verification
}

// healthy: every enabled check passed.
func (r *ipResult) healthy(cfg *Config) bool {
	return (!cfg.IncludeHTTPCheck || r.http.reason == reasonNone) && (!cfg.IncludeCertCheck || r.cert.reason == reasonNone)
}

// resolveTarget looks the host up and returns one job per address; each job writes only its
// own element of r.ips.
func (s *domainSource) resolveTarget(ctx context.Context, t *target, r *targetResult) []func() {
	addrs, took, reason := s.resolve(ctx, t.host)
	r.lookup, r.dnsReason = took, reason
	if reason != reasonNone {
		return nil
	}
	r.ips = make([]ipResult, len(addrs))
	var jobs []func()
	for i, a := range addrs {
		ip := &r.ips[i]
		ip.addr = a
		if s.cfg.IncludeCertCheck || s.cfg.IncludeHTTPCheck {
			jobs = append(jobs, func() { ip.cert, ip.http = s.checkAddress(ctx, t, a) })
		}
	}
	return jobs
}

// checkAddress runs both checks of one address over one TLS connection: the handshake (SNI =
// host) reads and verifies the certificate, then the HTTPS request goes over that connection.
// One handshake per address instead of two halves the cost for both sides; the outcome is the
// same, since the request could not be made over a connection that fails verification.
func (s *domainSource) checkAddress(ctx context.Context, t *target, ip netip.Addr) (certResult, httpResult) {
	began := time.Now()
	conn, cert := s.checkCert(ctx, t, ip)
	cert.took = time.Since(began)
	if !s.cfg.IncludeHTTPCheck {
		if conn != nil {
			_ = conn.Close()
		}
		return cert, httpResult{}
	}
	if conn == nil || (cert.reason != reasonNone && !t.InsecureSkipVerify) {
		if conn != nil {
			_ = conn.Close()
		}
		return cert, httpResult{reason: cert.reason}
	}
	return cert, s.checkHTTP(ctx, t, ip, conn, began)
}

// resolve returns the host's addresses of the enabled families. Both families are always asked
// for, so that a name with addresses of disabled families only is told apart (dns_no_answer).
func (s *domainSource) resolve(ctx context.Context, host string) ([]netip.Addr, time.Duration, string) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	began := time.Now()
	all, err := s.resolver.LookupNetIP(ctx, "ip", host)
	took := time.Since(began)
	if err != nil {
		return nil, took, dnsReason(err)
	}
	var addrs []netip.Addr
	for _, a := range all {
		a = a.Unmap()
		if (a.Is4() && s.cfg.IPv4 || a.Is6() && s.cfg.IPv6) && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, took, reasonDNSNoAnswer
	}
	return addrs, took, reasonNone
}

// probeCurves leaves out Go's default post-quantum hybrid (X25519MLKEM768): a health probe carries
// no secrets worth protecting against future quantum attacks, and ML-KEM was about a quarter of
// the CPU of a cycle (client and server side) in BenchmarkCycle1000Targets3IPs.
var probeCurves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}

// checkCert connects to the address, shakes hands with SNI = host and verifies the leaf
// certificate itself, so that a certificate that fails verification is still read and its
// failure typed. The connection is returned open (nil when there is none) for the request.
func (s *domainSource) checkCert(ctx context.Context, t *target, ip netip.Addr) (*tls.Conn, certResult) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conf := &tls.Config{ServerName: t.host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}, //nolint:gosec // verified below
		CurvePreferences: probeCurves}
	conn, err := s.dialTLS(ctx, netip.AddrPortFrom(ip, uint16(t.port)).String(), conf)
	if err != nil {
		return nil, certResult{reason: reason(err, s.now())}
	}
	chain := conn.ConnectionState().PeerCertificates
	if len(chain) == 0 {
		_ = conn.Close()
		return nil, certResult{reason: reasonTLSHandshake}
	}
	return conn, certResult{leaf: chain[0], reason: s.verify(t, chain)}
}

func (s *domainSource) verify(t *target, chain []*x509.Certificate) string {
	now, leaf := s.now(), chain[0]
	if now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return validityReason(leaf, now)
	}
	if t.InsecureSkipVerify {
		return reasonNone
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: t.host, Roots: s.roots, Intermediates: intermediates, CurrentTime: now})
	return reason(err, now)
}

// checkHTTP sends the target's request over conn (already connected to the address, SNI = host),
// with the host's name in the URL and the Host header. Response time counts from began, before
// the connection was made.
func (s *domainSource) checkHTTP(ctx context.Context, t *target, ip netip.Addr, conn *tls.Conn, began time.Time) httpResult {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	pin := &pinned{addr: ip}
	pin.conn.Store(conn)
	defer func() {
		if c := pin.conn.Swap(nil); c != nil {
			_ = c.Close() // the request failed before dialling
		}
	}()
	req, err := http.NewRequestWithContext(context.WithValue(ctx, pinnedKey{}, pin), t.Method, t.url, http.NoBody)
	if err != nil {
		return httpResult{reason: reasonUnknown}
	}
	for k, v := range t.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = string(v)
			continue
		}
		req.Header.Set(k, string(v))
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return httpResult{reason: reason(err, s.now())}
	}
	took := time.Since(began)
	_ = resp.Body.Close() // the body is not read: headers are the answer
	r := httpResult{responded: true, took: took}
	if !t.statusHealthy(resp.StatusCode) {
		r.reason = reasonHTTPStatus
	}
	return r
}

func (t *target) statusHealthy(code int) bool {
	if len(t.ExpectedStatusCodes) > 0 {
		return slices.Contains(t.ExpectedStatusCodes, code)
	}
	return code >= 200 && code <= 499
}

// pinnedKey is the request context key of the *pinned of the check.
type pinnedKey struct{}

// pinned is where the monitored host is dialled during one check: its first connection is the
// one checkCert made, later ones (redirects back to the host) go to addr.
type pinned struct {
	addr netip.Addr
	conn atomic.Pointer[tls.Conn]
}

// httpClient dials the monitored host at the address in the request context; any other host
// (a redirect target) is resolved and dialled normally.
func (s *domainSource) httpClient(t *target) *http.Client {
	transport := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true, // every check makes its own connection
		DialContext:       s.dialer.DialContext,
		DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if pin, ok := ctx.Value(pinnedKey{}).(*pinned); ok && strings.EqualFold(host, t.host) && port == strconv.Itoa(t.port) {
				if conn := pin.conn.Swap(nil); conn != nil {
					return conn, nil
				}
				addr = netip.AddrPortFrom(pin.addr, uint16(t.port)).String()
			}
			return s.dialTLS(ctx, addr, &tls.Config{
				ServerName: host, InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // the user's choice per target
				RootCAs: s.roots, MinVersion: tls.VersionTLS12, Time: s.now, CurvePreferences: probeCurves,
			})
		},
	}
	client := &http.Client{Transport: transport, CheckRedirect: t.checkRedirect}
	if !t.FollowRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return client
}

// maxRedirects is net/http's own limit, kept since checkRedirect replaces its default.
const maxRedirects = 10

// checkRedirect drops the configured headers from a redirect that leaves the target's origin
// (https, host, port). net/http strips only Authorization and cookies, and only across domains,
// so an X-Api-Key would follow the redirect anywhere and Authorization would go out over plain http.
func (t *target) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if !t.sameOrigin(req.URL) {
		for k := range t.Headers {
			req.Header.Del(k)
		}
	}
	return nil
}

// sameOrigin: u is https on the target's host and port.
func (t *target) sameOrigin(u *url.URL) bool {
	if !strings.EqualFold(u.Scheme, "https") {
		return false
	}
	port := u.Port()
	if port == "" {
		port = strconv.Itoa(defaultPort)
	}
	return port == strconv.Itoa(t.port) && sameHost(u.Hostname(), t.host)
}

// sameHost compares names case-insensitively and addresses by value ("::1" = "0:0:0:0:0:0:0:1").
func sameHost(a, b string) bool {
	if ipA, err := netip.ParseAddr(a); err == nil {
		ipB, err := netip.ParseAddr(b)
		return err == nil && ipA == ipB
	}
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// dialTLS connects and shakes hands, up to dial_retries times while ctx lasts. A certificate that
// fails verification is not retried: it will fail again.
func (s *domainSource) dialTLS(ctx context.Context, addr string, conf *tls.Config) (*tls.Conn, error) {
	var err error
	for range s.cfg.DialRetries {
		var raw net.Conn
		if raw, err = s.dialer.DialContext(ctx, "tcp", addr); err == nil {
			conn := tls.Client(raw, conf)
			if err = conn.HandshakeContext(ctx); err == nil {
				return conn, nil
			}
			_ = raw.Close()
			err = &handshakeError{err: err}
		}
		var verifyErr *tls.CertificateVerificationError
		if ctx.Err() != nil || errors.As(err, &verifyErr) {
			break
		}
	}
	return nil, err
}
