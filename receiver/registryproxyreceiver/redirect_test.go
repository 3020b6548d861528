package registryproxyreceiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/labring/otelcol-sealos/internal/netclassify"
	"github.com/labring/otelcol-sealos/test/registrytest"
)

// headerLog remembers the headers of each request a server got, by path.
type headerLog struct {
	mu   sync.Mutex
	seen map[string]http.Header
}

func (l *headerLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]http.Header{}
	}
	l.seen[r.URL.Path] = r.Header.Clone()
}

func (l *headerLog) get(path string) http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[path]
}

// A registry that redirects: within its origin the configured headers follow; to another origin
// neither they nor credentials do, and that origin's token challenge is not answered.
func TestRedirectsKeepHeadersAndCredentialsAtHome(t *testing.T) {
	tokens := registrytest.NewTokenServerT(t, map[string]string{pullUser: pullPassword})
	var homeLog, awayLog headerLog
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		awayLog.record(r)
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+tokens.Realm()+`",service="`+tokens.Service+`",scope="repository:library/app:pull"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(away.Close)
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		homeLog.record(r)
		switch r.URL.Path {
		case "/v2/":
			http.Redirect(w, r, "/v2/landed/", http.StatusTemporaryRedirect)
		case "/v2/landed/":
			w.WriteHeader(http.StatusOK)
		default: // the manifest
			http.Redirect(w, r, away.URL+r.URL.Path, http.StatusTemporaryRedirect)
		}
	}))
	t.Cleanup(home.Close)

	s := newTestSource(t, []Registry{{
		Endpoint: home.URL, Repository: "library/app", Reference: "v1",
		Headers: map[string]configopaque.String{"X-Registry-Key": "key-value"},
		Auth:    &Auth{Username: pullUser, Password: pullPassword},
	}}, "", nil)
	r := s.resolve(context.Background(), s.targets[0])
	require.Len(t, r.ips, 1)
	api := s.check(context.Background(), s.targets[0], r.ips[0].addr, checkAPI)
	manifest := s.check(context.Background(), s.targets[0], r.ips[0].addr, checkManifest)

	assert.Equal(t, checkResult{status: http.StatusOK, responded: true, took: api.took}, api)
	assert.Equal(t, "key-value", homeLog.get("/v2/landed/").Get("X-Registry-Key"), "a redirect within the origin keeps the headers")
	assert.Equal(t, netclassify.AuthFailed, manifest.reason)
	assert.Equal(t, http.StatusUnauthorized, manifest.status)
	landed := awayLog.get("/v2/library/app/manifests/v1")
	require.NotNil(t, landed, "the redirect was followed")
	assert.Empty(t, landed.Get("X-Registry-Key"), "a configured header left the registry's origin")
	assert.Empty(t, landed.Get("Authorization"))
	assert.Zero(t, tokens.Requests(), "credentials went to a token service another origin named")
}

// The same registry's own challenge is answered: a token is fetched and the manifest read.
func TestOwnChallengeIsAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry")
	}
	tokens := registrytest.NewTokenServerT(t, map[string]string{pullUser: pullPassword})
	reg := registrytest.StartT(t, registrytest.Options{Token: tokens})
	reg.PushT(t, "library/app", "v1")
	s := newTestSource(t, []Registry{{Endpoint: reg.URL, Repository: "library/app", Reference: "v1", Auth: &Auth{Username: pullUser, Password: pullPassword}}}, "", nil)
	r := s.resolve(context.Background(), s.targets[0])
	require.Len(t, r.ips, 1)
	got := s.check(context.Background(), s.targets[0], r.ips[0].addr, checkManifest)
	assert.Equal(t, netclassify.None, got.reason)
	assert.Equal(t, http.StatusOK, got.status)
	assert.Equal(t, int64(1), tokens.Requests())
}
