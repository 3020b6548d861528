package httpredirect

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a loopback server that remembers the headers of every request it got, by path.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]http.Header
}

func newRecorder(t *testing.T, tlsServer bool, handler func(w http.ResponseWriter, r *http.Request)) *recorder {
	rec := &recorder{seen: map[string]http.Header{}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen[r.URL.Path] = r.Header.Clone()
		rec.mu.Unlock()
		handler(w, r)
	})
	if tlsServer {
		rec.Server = httptest.NewTLSServer(h)
	} else {
		rec.Server = httptest.NewServer(h)
	}
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) headers(path string) http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[path]
}

// get sends the configured headers to url with the policy and returns the final status.
func get(t *testing.T, client *http.Client, target string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, http.NoBody)
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", "secret-key")
	req.Header.Set("Authorization", "Bearer secret-token")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func client(transport http.RoundTripper) *http.Client {
	return &http.Client{Transport: transport, CheckRedirect: SameOrigin(MaxRedirects, "X-Api-Key")}
}

func TestHeadersStayOnTheOrigin(t *testing.T) {
	other := newRecorder(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	origin := newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/away": // another port on the same address is another origin
			http.Redirect(w, r, other.URL+"/landed", http.StatusFound)
		case "/away-and-back":
			http.Redirect(w, r, other.URL+"/bounce", http.StatusFound)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	other.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.mu.Lock()
		other.seen[r.URL.Path] = r.Header.Clone()
		other.mu.Unlock()
		if r.URL.Path == "/bounce" {
			http.Redirect(w, r, origin.URL+"/back", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	c := client(http.DefaultTransport)

	assert.Equal(t, http.StatusOK, get(t, c, origin.URL+"/same"))
	assert.Equal(t, "secret-key", origin.headers("/final").Get("X-Api-Key"), "same origin keeps configured headers")
	assert.Equal(t, "Bearer secret-token", origin.headers("/final").Get("Authorization"))

	assert.Equal(t, http.StatusOK, get(t, c, origin.URL+"/away"))
	landed := other.headers("/landed")
	require.NotNil(t, landed)
	assert.Empty(t, landed.Get("X-Api-Key"), "a configured header left the origin")
	assert.Empty(t, landed.Get("Authorization"), "credentials left the origin")
	assert.Equal(t, "application/json", landed.Get("Accept"), "other headers follow")

	assert.Equal(t, http.StatusOK, get(t, c, origin.URL+"/away-and-back"))
	assert.Empty(t, other.headers("/bounce").Get("X-Api-Key"))
	assert.Equal(t, "secret-key", origin.headers("/back").Get("X-Api-Key"), "back on the origin, the headers return")
}

// Go keeps headers on a redirect from https to http of the same host; the policy does not.
func TestSchemeDowngradeDropsHeaders(t *testing.T) {
	plain := newRecorder(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	secure := newRecorder(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/plain", http.StatusFound)
	})
	transport := secure.Client().Transport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: transport.TLSClientConfig.RootCAs, MinVersion: tls.VersionTLS12}
	assert.Equal(t, http.StatusOK, get(t, client(transport), secure.URL+"/start"))
	got := plain.headers("/plain")
	require.NotNil(t, got)
	assert.Empty(t, got.Get("X-Api-Key"))
	assert.Empty(t, got.Get("Authorization"))
}

func TestRedirectLimit(t *testing.T) {
	loop := newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) })
	c := &http.Client{CheckRedirect: SameOrigin(3)}
	_, err := c.Get(loop.URL + "/loop")
	require.ErrorIs(t, err, ErrTooManyRedirects)
}

func TestOrigin(t *testing.T) {
	for raw, want := range map[string]string{
		"https://Registry.Example/v2/":      "https://registry.example:443",
		"https://registry.example:443/x":    "https://registry.example:443",
		"http://registry.example/":          "http://registry.example:80",
		"HTTP://[::1]:5000/v2/":             "http://[::1]:5000",
		"https://registry.example:5443/v2/": "https://registry.example:5443",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, want, Origin(u), raw)
	}
	assert.False(t, strings.EqualFold(Origin(mustParse(t, "https://a.example/")), Origin(mustParse(t, "https://sub.a.example/"))), "a subdomain is another origin")
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
