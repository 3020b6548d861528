package registryproxyreceiver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/labring/otelcol-sealos/internal/httpredirect"
	"github.com/labring/otelcol-sealos/internal/netclassify"
)

type checkKind int

const (
	checkAPI checkKind = iota
	checkManifest
)

// maxManifestBytes bounds the manifest body that is read (the distribution spec's limit).
const maxManifestBytes = 4 << 20

const userAgent = "otelcol-sealos-registryproxy"

type checkResult struct {
	reason    string
	status    int // the final response's status, else the registry's last one, else 0
	responded bool
	took      time.Duration // to the final response's headers
}

func (c *checkResult) passed() bool { return c.reason == netclassify.None }

// check runs one check of the registry on one address, within check_timeout.
func (s *registrySource) check(ctx context.Context, t *target, ip netip.Addr, kind checkKind) checkResult {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	rec := &registryTransport{origin: httpredirect.Origin(mustURL(t.base)), base: s.transport(t, ip)}
	client := &http.Client{Transport: rec, CheckRedirect: httpredirect.SameOrigin(httpredirect.MaxRedirects, headerNames(t.headers)...)}

	path := "/v2/"
	if kind == checkManifest {
		path = "/v2/" + t.repository + "/manifests/" + url.PathEscape(t.reference)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+path, http.NoBody)
	if err != nil {
		return checkResult{reason: netclassify.Unknown}
	}
	req.Header = t.headers.Clone()
	req.Header.Set("User-Agent", userAgent)

	began := time.Now()
	var resp *http.Response
	if kind == checkManifest {
		req.Header.Set("Accept", t.accept)
		resp, err = (&auth.Client{Client: client, Credential: t.credential}).Do(req)
	} else {
		resp, err = client.Do(req)
	}
	if err != nil {
		return checkResult{status: rec.lastStatus(), reason: failureReason(err, s.now())}
	}
	r := checkResult{status: resp.StatusCode, responded: true, took: time.Since(began)}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxManifestBytes))
	_ = resp.Body.Close()
	r.reason = statusReason(kind, resp.StatusCode)
	if r.reason == netclassify.None && err != nil {
		r.reason = netclassify.Reason(err, s.now()) // the body broke off
	}
	return r
}

// statusReason: api passes on 2xx and 401 (the registry is up and wants credentials), manifest
// only on 2xx; a refused token or missing credentials is auth_failed.
func statusReason(kind checkKind, code int) string {
	switch {
	case code >= 200 && code <= 299:
		return netclassify.None
	case kind == checkAPI && code == http.StatusUnauthorized:
		return netclassify.None
	case kind == checkManifest && (code == http.StatusUnauthorized || code == http.StatusForbidden):
		return netclassify.AuthFailed
	default:
		return netclassify.HTTPStatus
	}
}

// failureReason classifies a check that got no final response: the token service refused the
// credentials (or they are missing for a Basic challenge), or the network failed.
func failureReason(err error, now time.Time) string {
	var tokenErr *errcode.ErrorResponse
	if errors.As(err, &tokenErr) || errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return netclassify.AuthFailed
	}
	return netclassify.Reason(err, now)
}

// transport dials the registry's host:port at ip and anything else (a redirect target, the token
// service) as usual. One connection per request: each check measures its own.
func (s *registrySource) transport(t *target, ip netip.Addr) *http.Transport {
	pinned := net.JoinHostPort(ip.String(), t.port)
	return &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   t.tls.Clone(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil && strings.EqualFold(host, t.host) && port == t.port {
				addr = pinned
			}
			return s.dialer.DialContext(ctx, network, addr)
		},
	}
}

// registryTransport remembers the registry's last status (a check that then fails at the token
// service or at a redirect target still tells what the registry said) and hides a challenge that
// another origin sends after a redirect: credentials only ever answer the registry's own challenge.
type registryTransport struct {
	origin string
	base   http.RoundTripper
	mu     sync.Mutex
	status int
}

func (r *registryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if httpredirect.Origin(req.URL) == r.origin {
		r.mu.Lock()
		r.status = resp.StatusCode
		r.mu.Unlock()
	} else {
		resp.Header.Del("Www-Authenticate")
	}
	return resp, nil
}

func (r *registryTransport) lastStatus() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

func headerNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	return names
}

func mustURL(raw string) *url.URL {
	u, _ := url.Parse(raw) // built from a validated endpoint
	return u
}
