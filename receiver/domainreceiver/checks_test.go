package domainreceiver

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

// landings records the headers each landing request received, by scheme://host.
type landings struct {
	mu  sync.Mutex
	got map[string]http.Header
}

func (l *landings) record(scheme string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.got[scheme+"://"+r.Host] = r.Header.Clone()
		l.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}
}

func (l *landings) headers(t *testing.T, origin string) http.Header {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.got[origin]
	require.True(t, ok, "the redirect to %s was not followed; landed: %v", origin, l.got)
	return h
}

// Configured headers go only to the target's own origin: a redirect to another host or to plain
// http on the same host reaches its target without them (net/http alone would re-send X-Api-Key
// to the other host and both headers over plain http), while a redirect within the origin keeps them.
func TestConfiguredHeadersStayOnTheOrigin(t *testing.T) {
	ca := newCA(t, "Test Root CA")
	tlsListener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(tlsListener.Addr().(*net.TCPAddr).Port)
	land := &landings{got: map[string]http.Header{}}
	plain := httptest.NewServer(land.record("http"))
	t.Cleanup(plain.Close)
	plainPort := strconv.Itoa(plain.Listener.Addr().(*net.TCPAddr).Port)

	mux := http.NewServeMux()
	redirect := func(from, to string) {
		mux.HandleFunc(from, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) })
	}
	redirect("/to-other-host", "https://other.test:"+port+"/landing")
	redirect("/to-plain-http", "http://secret.test:"+plainPort+"/landing")
	redirect("/within-origin", "/landing")
	mux.HandleFunc("/landing", land.record("https"))
	serveTLSOn(t, ca.leaf(t, testNow.Add(-time.Hour), testNow.Add(time.Hour), "secret.test", "other.test"), mux, tlsListener)

	dns := startDNS(t, map[string][]string{"secret.test": {"127.0.0.1"}, "other.test": {"127.0.0.1"}})
	secrets := map[string]configopaque.String{"X-Api-Key": "key-marker", "Authorization": "Bearer token-marker"}
	cfg := createDefaultConfig().(*Config)
	cfg.Timeout, cfg.DNSServer, cfg.CAFile = 5*time.Second, dns.addr, ca.writePEM(t)
	for _, p := range []string{"/to-other-host", "/to-plain-http", "/within-origin"} {
		cfg.Targets = append(cfg.Targets, Target{Endpoint: "secret.test:" + port, Path: p, Headers: secrets, FollowRedirects: true, ExpectedStatusCodes: []int{200}})
	}
	// The three targets share an endpoint on purpose (one origin, three paths): Validate would
	// refuse that, so the source is started without it.
	s := newDomainSource(cfg, receivertest.NewNopSettings(metadata.Type))
	s.now = func() time.Time { return testNow }
	require.NoError(t, s.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	for i, r := range s.runChecks(t.Context()) {
		require.Len(t, r.ips, 1, "target %d", i)
		require.Equal(t, reasonNone, r.ips[0].http.reason, "target %d (%s)", i, cfg.Targets[i].Path)
	}

	for _, origin := range []string{"https://other.test:" + port, "http://secret.test:" + plainPort} {
		h := land.headers(t, origin)
		assert.Empty(t, h.Values("X-Api-Key"), "X-Api-Key leaked to %s", origin)
		assert.Empty(t, h.Values("Authorization"), "Authorization leaked to %s", origin)
	}
	h := land.headers(t, "https://secret.test:"+port)
	assert.Equal(t, "key-marker", h.Get("X-Api-Key"), "a redirect within the origin keeps the headers")
	assert.Equal(t, "Bearer token-marker", h.Get("Authorization"))
}

func TestSameOrigin(t *testing.T) {
	tg := &target{host: "secret.test", port: 443}
	v6 := &target{host: "2001:db8::1", port: 8443}
	for _, tt := range []struct {
		t    *target
		url  string
		want bool
	}{
		{tg, "https://secret.test/landing", true},
		{tg, "https://SECRET.test:443/", true},
		{tg, "https://secret.test./", true},
		{tg, "http://secret.test:443/", false}, // same host and port, plain http
		{tg, "http://secret.test/", false},
		{tg, "https://secret.test:8443/", false},
		{tg, "https://other.test/", false},
		{tg, "https://secret.test.evil.test/", false},
		{v6, "https://[2001:0db8:0:0::1]:8443/", true},
		{v6, "https://[2001:db8::2]:8443/", false},
	} {
		u, err := url.Parse(tt.url)
		require.NoError(t, err)
		assert.Equal(t, tt.want, tt.t.sameOrigin(u), tt.url)
	}
}
