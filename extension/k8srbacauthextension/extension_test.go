package k8srbacauthextension

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/labring/otelcol-sealos/extension/k8srbacauthextension/internal/metadata"
	"github.com/labring/otelcol-sealos/internal/k8sconfig"
)

// startUnreachable starts the extension against testdata/kubeconfig, whose server
// (127.0.0.1:1) refuses connections: every review that needs the API fails.
func startUnreachable(t *testing.T) (*rbacAuth, *observer.ObservedLogs) {
	t.Helper()
	cfg := createDefaultConfig()
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: "testdata/kubeconfig"}
	cfg.Timeout = 2 * time.Second
	core, logs := observer.New(zapcore.DebugLevel)
	set := extensiontest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	ext := newRBACAuth(cfg, set)
	require.NoError(t, ext.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return ext, logs
}

func TestNoTokenIsRejectedWithoutAskingTheAPIServer(t *testing.T) {
	ext, _ := startUnreachable(t)
	base := serve(t, ext, asMiddleware)
	r := get(t, base+"/metrics", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, int64(0), ext.reviewer().apiCalls.Load())
}

func TestUnreachableAPIServerIs503AndNotCached(t *testing.T) {
	ext, logs := startUnreachable(t)
	base := serve(t, ext, asMiddleware)
	const secret = "eyJhbGciOiJSUzI1NiJ9.secret-token-material.c2ln"
	for range 2 {
		r := get(t, base+"/metrics", secret)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.NotContains(t, r.body, secret)
	}
	assert.Equal(t, int64(2), ext.reviewer().apiCalls.Load(), "a failed review is not cached")
	assert.Equal(t, 0, ext.reviewer().cache.len())

	warns := logs.FilterMessage("k8s_rbac_auth: review failed").All()
	require.NotEmpty(t, warns, "the failure is logged")
	for _, e := range logs.All() {
		for k, v := range e.ContextMap() {
			assert.NotContains(t, k+"="+toString(v), "secret-token-material", "the token was logged")
		}
	}
}

func TestAuthenticatorBeforeStartFails(t *testing.T) {
	ext := newRBACAuth(createDefaultConfig(), extensiontest.NewNopSettings(metadata.Type))
	_, err := ext.Authenticate(t.Context(), map[string][]string{"Authorization": {"Bearer x"}})
	require.ErrorIs(t, err, errNotStarted)
	require.NoError(t, ext.Shutdown(t.Context()), "shutdown without start")
	require.NoError(t, ext.Shutdown(t.Context()), "shutdown twice")
}
