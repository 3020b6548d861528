package k8sconfig

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
)

const (
	userAgent = "otelcol-sealos/test"
	// secretToken must never show up in an error message.
	secretToken = "s3cr3t-bearer-token-do-not-leak"
	firstToken  = "first-user-token"
)

func TestDefaultAPIConfigIsValid(t *testing.T) {
	cfg := NewDefaultAPIConfig()
	assert.Equal(t, AuthTypeServiceAccount, cfg.AuthType)
	assert.Positive(t, cfg.QPS)
	assert.Positive(t, cfg.Burst)
	assert.NoError(t, errors.Join(cfg.Check()...))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  APIConfig
		// wantErr lists substrings the error must contain; empty means valid.
		wantErr []string
	}{
		{name: "serviceAccount", cfg: APIConfig{AuthType: AuthTypeServiceAccount, QPS: 20, Burst: 40}},
		{name: "kubeConfig with path and context", cfg: APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: "/etc/kube/config", Context: "prod", QPS: 5, Burst: 10}},
		{name: "kubeConfig with defaults", cfg: APIConfig{AuthType: AuthTypeKubeConfig}},
		{name: "none", cfg: APIConfig{AuthType: AuthTypeNone}},
		{name: "zero qps and burst use client-go defaults", cfg: APIConfig{AuthType: AuthTypeServiceAccount}},
		{name: "burst without qps", cfg: APIConfig{AuthType: AuthTypeServiceAccount, Burst: 10}},
		{
			name:    "unknown auth_type",
			cfg:     APIConfig{AuthType: "token", QPS: 1, Burst: 1},
			wantErr: []string{"auth_type", `"token"`, `"serviceAccount"`, `"kubeConfig"`, `"none"`},
		},
		{
			name:    "empty auth_type",
			cfg:     APIConfig{QPS: 1, Burst: 1},
			wantErr: []string{"auth_type", `""`},
		},
		{
			name:    "auth_type is case sensitive",
			cfg:     APIConfig{AuthType: "kubeconfig"},
			wantErr: []string{"auth_type", `"kubeconfig"`},
		},
		{
			name:    "negative qps",
			cfg:     APIConfig{AuthType: AuthTypeServiceAccount, QPS: -1, Burst: 1},
			wantErr: []string{"qps", "-1"},
		},
		{
			name:    "negative burst",
			cfg:     APIConfig{AuthType: AuthTypeServiceAccount, Burst: -5},
			wantErr: []string{"burst", "-5"},
		},
		{
			name:    "qps without burst",
			cfg:     APIConfig{AuthType: AuthTypeServiceAccount, QPS: 5},
			wantErr: []string{"burst", "qps"},
		},
		{
			name:    "kubeconfig_path with serviceAccount",
			cfg:     APIConfig{AuthType: AuthTypeServiceAccount, KubeConfigPath: "/etc/kube/config"},
			wantErr: []string{"kubeconfig_path", `"kubeConfig"`, `"serviceAccount"`},
		},
		{
			name:    "context with serviceAccount",
			cfg:     APIConfig{AuthType: AuthTypeServiceAccount, Context: "prod"},
			wantErr: []string{"context", `"kubeConfig"`, `"serviceAccount"`},
		},
		{
			name:    "kubeconfig_path with none",
			cfg:     APIConfig{AuthType: AuthTypeNone, KubeConfigPath: "/etc/kube/config"},
			wantErr: []string{"kubeconfig_path", `"kubeConfig"`, `"none"`},
		},
		{
			name:    "context with none",
			cfg:     APIConfig{AuthType: AuthTypeNone, Context: "prod"},
			wantErr: []string{"context", `"none"`},
		},
		{
			name:    "every problem is reported",
			cfg:     APIConfig{AuthType: "bogus", QPS: -1, Burst: -2},
			wantErr: []string{"auth_type", "qps", "burst"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := errors.Join(tt.cfg.Check()...)
			if len(tt.wantErr) == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

// writeKubeconfig writes a kubeconfig with two contexts to a temp dir and returns its path. The
// first context is current; the second uses secondServer and authenticates with secretToken. When
// tlsServer is set, both clusters trust its certificate. (client-go only sends credentials over
// https, so tests that check what is sent or leaked use TLS servers.)
func writeKubeconfig(t *testing.T, firstServer, secondServer string, tlsServer *httptest.Server) string {
	t.Helper()
	ca := ""
	if tlsServer != nil {
		pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsServer.Certificate().Raw})
		ca = "\n    certificate-authority-data: " + base64.StdEncoding.EncodeToString(pemCert)
	}
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: first-cluster
  cluster:
    server: %s%s
- name: second-cluster
  cluster:
    server: %s%s
users:
- name: first-user
  user:
    token: %s
- name: second-user
  user:
    token: %s
contexts:
- name: first
  context:
    cluster: first-cluster
    user: first-user
- name: second
  context:
    cluster: second-cluster
    user: second-user
current-context: first
`, firstServer, ca, secondServer, ca, firstToken, secretToken)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// clearInClusterEnv makes sure the test does not look like it runs in a pod.
func clearInClusterEnv(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
}

func TestRestConfigKubeConfig(t *testing.T) {
	path := writeKubeconfig(t, "https://first.example.com:6443", "https://second.example.com:7443", nil)

	t.Run("context selects the second cluster and user", func(t *testing.T) {
		cfg := APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: path, Context: "second", QPS: 7.5, Burst: 15}
		require.NoError(t, errors.Join(cfg.Check()...))
		rc, err := cfg.RestConfig(userAgent)
		require.NoError(t, err)
		assert.Equal(t, "https://second.example.com:7443", rc.Host)
		assert.Equal(t, secretToken, rc.BearerToken)
		assert.InDelta(t, 7.5, rc.QPS, 1e-9)
		assert.Equal(t, 15, rc.Burst)
		assert.Equal(t, userAgent, rc.UserAgent)
	})

	t.Run("current context without context", func(t *testing.T) {
		cfg := APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: path, QPS: 20, Burst: 40}
		rc, err := cfg.RestConfig(userAgent)
		require.NoError(t, err)
		assert.Equal(t, "https://first.example.com:6443", rc.Host)
		assert.Equal(t, firstToken, rc.BearerToken)
		assert.InDelta(t, 20, rc.QPS, 1e-9)
		assert.Equal(t, 40, rc.Burst)
		assert.Equal(t, userAgent, rc.UserAgent)
	})

	t.Run("$KUBECONFIG when kubeconfig_path is empty", func(t *testing.T) {
		t.Setenv("KUBECONFIG", path)
		rc, err := APIConfig{AuthType: AuthTypeKubeConfig, Context: "second"}.RestConfig(userAgent)
		require.NoError(t, err)
		assert.Equal(t, "https://second.example.com:7443", rc.Host)
	})

	t.Run("unknown context", func(t *testing.T) {
		_, err := APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: path, Context: "third"}.RestConfig(userAgent)
		require.Error(t, err)
		assert.ErrorContains(t, err, "third")
		assert.ErrorContains(t, err, path)
		assert.NotContains(t, err.Error(), secretToken)
		assert.NotContains(t, err.Error(), firstToken)
	})
}

func TestRestConfigMissingKubeconfig(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "does-not-exist")

	t.Run("explicit path", func(t *testing.T) {
		_, err := APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: missing}.RestConfig(userAgent)
		require.Error(t, err)
		assert.ErrorContains(t, err, missing)
		assert.ErrorContains(t, err, "kubeConfig")
	})

	t.Run("from $KUBECONFIG", func(t *testing.T) {
		t.Setenv("KUBECONFIG", missing)
		_, err := APIConfig{AuthType: AuthTypeKubeConfig}.RestConfig(userAgent)
		require.Error(t, err)
		assert.ErrorContains(t, err, "$KUBECONFIG")
		assert.ErrorContains(t, err, missing)
	})
}

func TestRestConfigServiceAccountOutsidePod(t *testing.T) {
	clearInClusterEnv(t)
	rc, err := NewDefaultAPIConfig().RestConfig(userAgent)
	require.Error(t, err)
	assert.Nil(t, rc)
	assert.ErrorIs(t, err, rest.ErrNotInCluster)
	assert.ErrorContains(t, err, `"serviceAccount"`)
	assert.ErrorContains(t, err, `"kubeConfig"`, "the error should suggest kubeConfig outside a cluster")
}

func TestRestConfigNone(t *testing.T) {
	t.Run("without environment", func(t *testing.T) {
		clearInClusterEnv(t)
		_, err := APIConfig{AuthType: AuthTypeNone}.RestConfig(userAgent)
		require.Error(t, err)
		assert.ErrorContains(t, err, "KUBERNETES_SERVICE_HOST")
		assert.ErrorContains(t, err, "KUBERNETES_SERVICE_PORT")
	})

	t.Run("host without port", func(t *testing.T) {
		clearInClusterEnv(t)
		t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
		_, err := APIConfig{AuthType: AuthTypeNone}.RestConfig(userAgent)
		assert.ErrorContains(t, err, "KUBERNETES_SERVICE_PORT")
	})

	for _, tt := range []struct{ host, port, want string }{
		{host: "10.96.0.1", port: "443", want: "https://10.96.0.1:443"},
		{host: "fd00::1", port: "6443", want: "https://[fd00::1]:6443"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			t.Setenv("KUBERNETES_SERVICE_HOST", tt.host)
			t.Setenv("KUBERNETES_SERVICE_PORT", tt.port)
			rc, err := APIConfig{AuthType: AuthTypeNone, QPS: 3, Burst: 6}.RestConfig(userAgent)
			require.NoError(t, err)
			assert.Equal(t, tt.want, rc.Host)
			assert.True(t, rc.Insecure)
			assert.Empty(t, rc.BearerToken)
			assert.Empty(t, rc.BearerTokenFile)
			assert.InDelta(t, 3, rc.QPS, 1e-9)
			assert.Equal(t, 6, rc.Burst)
			assert.Equal(t, userAgent, rc.UserAgent)
		})
	}
}

func TestRestConfigUnknownAuthType(t *testing.T) {
	_, err := APIConfig{AuthType: "bogus"}.RestConfig(userAgent)
	assert.ErrorContains(t, err, "auth_type")
	assert.ErrorContains(t, err, "bogus")
}

// apiServer is a fake API server that answers /version and records what the client sent.
type apiServer struct {
	mu     sync.Mutex
	auth   []string
	agents []string
	status int
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.agents = append(s.agents, r.Header.Get("User-Agent"))
	status := s.status
	s.mu.Unlock()
	if r.URL.Path != "/version" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status != 0 && status != http.StatusOK {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"major": "1", "minor": "35", "gitVersion": "v1.35.4", "platform": "linux/amd64"})
}

func (s *apiServer) requests() (auth, agents []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...), append([]string(nil), s.agents...)
}

func TestClientUsesTheSelectedContext(t *testing.T) {
	api := &apiServer{}
	srv := httptest.NewTLSServer(api)
	defer srv.Close()
	path := writeKubeconfig(t, "https://first.invalid:6443", srv.URL, srv)

	cfg := APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: path, Context: "second", QPS: 5, Burst: 10}
	client, rc, err := cfg.Client(userAgent)
	require.NoError(t, err)
	assert.Equal(t, srv.URL, rc.Host)
	auth, _ := api.requests()
	assert.Empty(t, auth, "Client must not contact the server: one that is down at start is waited for")

	info, err := client.Discovery().ServerVersion()
	require.NoError(t, err)
	assert.Equal(t, "v1.35.4", info.GitVersion)
	auth, agents := api.requests()
	require.NotEmpty(t, auth)
	assert.Equal(t, "Bearer "+secretToken, auth[0], "the selected context's credentials are used")
	assert.Equal(t, userAgent, agents[0])
}

func TestClientNoneAgainstTLSServer(t *testing.T) {
	// auth_type none skips certificate verification and sends no credentials.
	api := &apiServer{}
	srv := httptest.NewTLSServer(api)
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(u.Host)
	require.NoError(t, err)
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("KUBERNETES_SERVICE_PORT", port)

	client, rc, err := APIConfig{AuthType: AuthTypeNone}.Client(userAgent)
	require.NoError(t, err)
	assert.Equal(t, srv.URL, rc.Host)
	_, err = client.Discovery().ServerVersion()
	require.NoError(t, err)
	auth, _ := api.requests()
	require.NotEmpty(t, auth)
	assert.Empty(t, auth[0])
}

func TestClientStartsWithTheServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	server := "https://" + l.Addr().String()
	require.NoError(t, l.Close())
	path := writeKubeconfig(t, "https://first.invalid:6443", server, nil)

	client, rc, err := APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: path, Context: "second"}.Client(userAgent)
	require.NoError(t, err, "a server that is down is a condition to wait out, not a start failure")
	assert.Equal(t, server, rc.Host)
	_, err = client.Discovery().ServerVersion()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secretToken, "credentials must never leak into errors")
}

func TestClientBadKubeconfigFails(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	_, _, err := APIConfig{AuthType: AuthTypeKubeConfig, KubeConfigPath: missing}.Client(userAgent)
	require.Error(t, err, "what a restart cannot fix fails at once")
	assert.ErrorContains(t, err, missing)
}
