package k8srbacauthextension

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/extension/k8srbacauthextension/internal/metadata"
	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

const (
	testNamespace = "monitoring"
	readerRole    = "metrics-reader"
)

// rbacFixture is a real API server with two ServiceAccounts: `reader`, granted get on
// /metrics, and `nobody`, granted nothing; plus their real tokens.
type rbacFixture struct {
	cluster     *k8stest.Cluster
	readerToken string
	nobodyToken string
}

func newRBACFixture(t testing.TB) *rbacFixture {
	t.Helper()
	cluster := k8stest.StartT(t)
	ctx := t.Context()
	f := &rbacFixture{cluster: cluster}
	var err error
	f.readerToken, err = k8stest.ServiceAccountToken(ctx, cluster.Client, testNamespace, "reader")
	require.NoError(t, err)
	f.nobodyToken, err = k8stest.ServiceAccountToken(ctx, cluster.Client, testNamespace, "nobody")
	require.NoError(t, err)
	require.NoError(t, k8stest.GrantNonResourceGet(ctx, cluster.Client, readerRole, []string{"/metrics"}, testNamespace, "reader"))
	return f
}

// startExtension starts the extension against the fixture's API server with clock as the
// cache clock; logs are observed at debug level.
func (f *rbacFixture) startExtension(t testing.TB, clock *fakeClock) (*rbacAuth, *observer.ObservedLogs) {
	t.Helper()
	return f.startExtensionWith(t, clock, func(*Config) {})
}

func (f *rbacFixture) startExtensionWith(t testing.TB, clock *fakeClock, configure func(*Config)) (*rbacAuth, *observer.ObservedLogs) {
	t.Helper()
	cfg := createDefaultConfig()
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: f.cluster.Kubeconfig}
	configure(cfg)
	core, logs := observer.New(zapcore.DebugLevel)
	set := extensiontest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	ext := newRBACAuth(cfg, set)
	ext.now = clock.now
	require.NoError(t, ext.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return ext, logs
}

// serve runs a real confighttp server (as the Prometheus exporter builds it) with the
// extension wired in by configure, answering 200 "ok" to any request that gets through.
func serve(t *testing.T, ext *rbacAuth, configure func(*confighttp.ServerConfig, component.ID)) string {
	t.Helper()
	id := component.NewID(metadata.Type)
	sc := confighttp.NewDefaultServerConfig()
	sc.NetAddr.Endpoint = "127.0.0.1:0"
	configure(&sc, id)
	ln, err := sc.ToListener(t.Context())
	require.NoError(t, err)
	srv, err := sc.ToServer(t.Context(), map[component.ID]component.Component{id: ext}, componenttest.NewNopTelemetrySettings(),
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return "http://" + ln.Addr().(*net.TCPAddr).String()
}

func asMiddleware(sc *confighttp.ServerConfig, id component.ID) {
	sc.Middlewares = []configmiddleware.Config{{ID: id}}
}

func asAuthenticator(sc *confighttp.ServerConfig, id component.ID) {
	sc.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: id}})
}

type response struct {
	status int
	body   string
	header http.Header
}

func get(t *testing.T, url, token string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, http.NoBody)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func TestMiddlewareAgainstAPIServer(t *testing.T) {
	f := newRBACFixture(t)
	ext, logs := f.startExtension(t, newFakeClock())
	base := serve(t, ext, asMiddleware)

	noToken := get(t, base+"/metrics", "")
	assert.Equal(t, http.StatusUnauthorized, noToken.status, "no token")
	assert.Contains(t, noToken.header.Get("WWW-Authenticate"), "Bearer")

	assert.Equal(t, http.StatusUnauthorized, get(t, base+"/metrics", "not-a-token").status, "bad token")
	assert.Equal(t, http.StatusForbidden, get(t, base+"/metrics", f.nobodyToken).status, "valid token without RBAC")

	ok := get(t, base+"/metrics", f.readerToken)
	assert.Equal(t, http.StatusOK, ok.status, "valid token with a ClusterRole granting /metrics")
	assert.Equal(t, "ok", ok.body)

	assert.Equal(t, http.StatusForbidden, get(t, base+"/other", f.readerToken).status,
		"the request's own path is checked: /metrics does not grant /other")

	for _, e := range logs.All() {
		for _, tok := range []string{f.readerToken, f.nobodyToken, "not-a-token"} {
			assert.NotContains(t, e.Message, tok)
			for k, v := range e.ContextMap() {
				assert.NotContains(t, k+"="+toString(v), tok, "a token was logged")
			}
		}
	}
	assert.NotEmpty(t, logs.FilterField(zap.String("user", "system:serviceaccount:"+testNamespace+":reader")).All(),
		"decisions are logged with the user name")
}

func TestAuthenticatorAgainstAPIServer(t *testing.T) {
	f := newRBACFixture(t)
	ext, _ := f.startExtension(t, newFakeClock())
	base := serve(t, ext, asAuthenticator)

	// confighttp's `auth:` answers every failure with 401, and passes headers only: the
	// configured path (/metrics) is what is checked, whatever the request path.
	assert.Equal(t, http.StatusUnauthorized, get(t, base+"/metrics", "").status, "no token")
	assert.Equal(t, http.StatusUnauthorized, get(t, base+"/metrics", "not-a-token").status, "bad token")
	forbidden := get(t, base+"/metrics", f.nobodyToken)
	assert.Equal(t, http.StatusUnauthorized, forbidden.status, "confighttp turns forbidden into 401")
	assert.Contains(t, forbidden.body, "forbidden")
	assert.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status)
	for _, r := range []response{forbidden, get(t, base+"/metrics", "not-a-token")} {
		assert.NotContains(t, r.body, f.nobodyToken)
		assert.NotContains(t, r.body, "not-a-token", "the error text never echoes the token")
	}
}

// TestCacheAgainstAPIServer: answers are reused without API calls, allowed for allowed_ttl
// (1m), denied for denied_ttl (10s); a revoked grant stays allowed until its entry is renewed.
func TestCacheAgainstAPIServer(t *testing.T) {
	f := newRBACFixture(t)
	clock := newFakeClock()
	ext, _ := f.startExtension(t, clock)
	base := serve(t, ext, asMiddleware)
	calls := func() int64 { return ext.reviewer().apiCalls.Load() }

	require.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status)
	require.Equal(t, http.StatusForbidden, get(t, base+"/metrics", f.nobodyToken).status)
	require.Equal(t, int64(4), calls(), "two TokenReviews and two SubjectAccessReviews")

	for range 3 {
		require.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status)
		require.Equal(t, http.StatusForbidden, get(t, base+"/metrics", f.nobodyToken).status)
	}
	assert.Equal(t, int64(4), calls(), "cached answers make no API calls")

	// Grant nobody, revoke reader: neither shows until the cached answer expires.
	require.NoError(t, k8stest.GrantNonResourceGet(t.Context(), f.cluster.Client, "late-grant", []string{"/metrics"}, testNamespace, "nobody"))
	require.NoError(t, k8stest.RevokeNonResourceGet(t.Context(), f.cluster.Client, readerRole))
	waitForRBAC(t, f.cluster, "nobody", true)
	waitForRBAC(t, f.cluster, "reader", false)
	assert.Equal(t, http.StatusForbidden, get(t, base+"/metrics", f.nobodyToken).status, "denied answer still cached")
	assert.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status, "allowed answer still cached")
	assert.Equal(t, int64(4), calls())

	clock.advance(10 * time.Second) // denied_ttl passes, allowed_ttl does not
	assert.Equal(t, http.StatusOK, get(t, base+"/metrics", f.nobodyToken).status, "the grant is seen once the denied answer expired")
	assert.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status, "allowed answer kept for allowed_ttl")
	assert.Equal(t, int64(6), calls())

	clock.advance(50 * time.Second) // allowed_ttl (1m) passes for reader
	// The stale answer is served once more while it is renewed in the background; the renewal
	// brings the revocation.
	assert.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status, "a stale allowed answer is served while renewed")
	require.Eventually(t, func() bool { return get(t, base+"/metrics", f.readerToken).status == http.StatusForbidden }, waitForRenewal, 20*time.Millisecond,
		"the revocation is seen once the renewal came back")
	assert.Equal(t, int64(8), calls())
}

const waitForRenewal = 10 * time.Second

// waitForRBAC waits until the API server's own authorizer (informer-fed, so it lags writes
// slightly) gives the wanted answer for the ServiceAccount on /metrics.
func waitForRBAC(t *testing.T, cluster *k8stest.Cluster, serviceAccount string, want bool) {
	t.Helper()
	user := "system:serviceaccount:" + testNamespace + ":" + serviceAccount
	require.Eventually(t, func() bool {
		sar, err := cluster.Client.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:                  user,
				Groups:                []string{"system:serviceaccounts", "system:serviceaccounts:" + testNamespace, "system:authenticated"},
				NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
			},
		}, metav1.CreateOptions{})
		return err == nil && sar.Status.Allowed == want
	}, 10*time.Second, 50*time.Millisecond, "RBAC change for %s not visible", user)
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
