package domainreceiver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
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

// resolveTarget looks the host up and returns one job per address and enabled check; each job
// writes only its own field of r.
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
		if s.cfg.IncludeCertCheck {
			jobs = append(jobs, func() {
				began := time.Now()
				ip.cert = s.checkCert(ctx, t, a)
				ip.cert.took = time.Since(began)
			})
		}
		if s.cfg.IncludeHTTPCheck {
			jobs = append(jobs, func() { ip.http = s.checkHTTP(ctx, t, a) })
		}
	}
	return jobs
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

// checkCert reads the leaf certificate the address serves for the host (SNI) and verifies it
// itself, so that a certificate that fails verification is still read and its failure typed.
func (s *domainSource) checkCert(ctx context.Context, t *target, ip netip.Addr) certResult {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conf := &tls.Config{ServerName: t.host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec // verified below
	conn, err := s.dialTLS(ctx, netip.AddrPortFrom(ip, uint16(t.port)).String(), conf)
	if err != nil {
		return certResult{reason: reason(err, s.now())}
	}
	defer conn.Close()
	chain := conn.ConnectionState().PeerCertificates
	if len(chain) == 0 {
		return certResult{reason: reasonTLSHandshake}
	}
	return certResult{leaf: chain[0], reason: s.verify(t, chain)}
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

// checkHTTP sends the target's request to the address, with the host's name in the URL, the Host
// header and the SNI.
func (s *domainSource) checkHTTP(ctx context.Context, t *target, ip netip.Addr) httpResult {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(context.WithValue(ctx, pinnedAddr{}, ip), t.Method, t.url, http.NoBody)
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
	began := time.Now()
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

// pinnedAddr is the request context key of the address the monitored host is dialled at.
type pinnedAddr struct{}

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
			if ip, ok := ctx.Value(pinnedAddr{}).(netip.Addr); ok && strings.EqualFold(host, t.host) && port == strconv.Itoa(t.port) {
				addr = netip.AddrPortFrom(ip, uint16(t.port)).String()
			}
			return s.dialTLS(ctx, addr, &tls.Config{
				ServerName: host, InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // the user's choice per target
				RootCAs: s.roots, MinVersion: tls.VersionTLS12, Time: s.now,
			})
		},
	}
	client := &http.Client{Transport: transport}
	if !t.FollowRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return client
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
