package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// TestMetricsEndpointTLSRotationAndRBAC runs the real binary with two Prometheus exporters
// served over TLS from a Kubernetes-secret-style folder and protected by k8s_rbac_auth:
// prometheus/mw uses it as a middleware (401 vs 403, the request's path), prometheus/auth as
// confighttp's `auth:` authenticator (every failure 401). The certificate is rotated the way
// the kubelet updates a secret volume (a new ..data symlink, swapped atomically) while running.
func TestMetricsEndpointTLSRotationAndRBAC(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	ctx := t.Context()
	readerToken, err := k8stest.ServiceAccountToken(ctx, c.Client, "monitoring", "prometheus")
	require.NoError(t, err)
	nobodyToken, err := k8stest.ServiceAccountToken(ctx, c.Client, "monitoring", "nobody")
	require.NoError(t, err)
	require.NoError(t, k8stest.GrantNonResourceGet(ctx, c.Client, "metrics-reader", []string{"/metrics"}, "monitoring", "prometheus"))

	ca := newTestCA(t)
	secret := newSecretVolume(t)
	secret.update(t, ca.issue(t, "metrics-v1"))

	mwPort, authPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	exporter := func(port int, protect string) string {
		return fmt.Sprintf(`    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
    tls:
      cert_file: %s
      key_file: %s
      reload_interval: 1s
%s`, port, filepath.Join(secret.dir, "tls.crt"), filepath.Join(secret.dir, "tls.key"), protect)
	}
	cfg := pipeline{
		exporter: "prometheus/mw, prometheus/auth",
		exporters: "  prometheus/mw:\n" + exporter(mwPort, "    middlewares:\n      - id: k8s_rbac_auth") +
			"\n  prometheus/auth:\n" + exporter(authPort, "    auth:\n      authenticator: k8s_rbac_auth"),
		extension: "k8s_rbac_auth",
		extensions: fmt.Sprintf(`  k8s_rbac_auth:
    auth_type: kubeConfig
    kubeconfig_path: %s
`, c.Kubeconfig),
	}.write(t, c.Kubeconfig)
	col := otelcoltest.Start(t, cfg)

	client := ca.client()
	mwURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", mwPort)
	authURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", authPort)

	var last scrapeResult
	ok := assert.Eventually(t, func() bool {
		last = scrapeAs(client, mwURL, readerToken)
		return last.status == http.StatusOK && strings.Contains(last.body, "sealos_node_healthy{")
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "authorised scrape: %+v\ncollector exited: %v", last, col.Exited())
	assert.Equal(t, "metrics-v1", last.serverCN)

	// Middleware: the four outcomes, and the path is the request's own.
	assert.Equal(t, http.StatusUnauthorized, scrapeAs(client, mwURL, "").status, "no token")
	assert.Equal(t, http.StatusUnauthorized, scrapeAs(client, mwURL, "not-a-token").status, "bad token")
	assert.Equal(t, http.StatusForbidden, scrapeAs(client, mwURL, nobodyToken).status, "valid token, no RBAC")
	assert.Equal(t, http.StatusOK, scrapeAs(client, mwURL, readerToken).status, "valid token, ClusterRole grants /metrics")
	assert.Equal(t, http.StatusForbidden, scrapeAs(client, strings.TrimSuffix(mwURL, "metrics")+"federate", readerToken).status,
		"/metrics does not grant /federate")

	// confighttp `auth:`: allowed is 200, anything else 401 (confighttp's fixed failure status).
	assert.Equal(t, http.StatusOK, scrapeAs(client, authURL, readerToken).status)
	assert.Equal(t, http.StatusUnauthorized, scrapeAs(client, authURL, "").status)
	assert.Equal(t, http.StatusUnauthorized, scrapeAs(client, authURL, nobodyToken).status)

	// Rotate the way the kubelet does for a cert-manager secret: both endpoints serve the new
	// certificate on new connections, without a restart.
	secret.update(t, ca.issue(t, "metrics-v2"))
	for _, url := range []string{mwURL, authURL} {
		ok = assert.Eventually(t, func() bool {
			last = scrapeAs(client, url, readerToken)
			return last.status == http.StatusOK && last.serverCN == "metrics-v2"
		}, 30*time.Second, 200*time.Millisecond)
		require.True(t, ok, "rotated certificate on %s: %+v\ncollector exited: %v", url, last, col.Exited())
	}
	assert.False(t, col.Exited())
	for _, tok := range []string{readerToken, nobodyToken} {
		assert.NotContains(t, col.Output(), tok, "a token reached the collector's log")
	}
}

type scrapeResult struct {
	status   int
	body     string
	serverCN string
	err      error
}

// scrapeAs GETs url on a new connection (so every call does a TLS handshake).
func scrapeAs(client *http.Client, url, token string) scrapeResult {
	req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
	if err != nil {
		return scrapeResult{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return scrapeResult{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	r := scrapeResult{status: resp.StatusCode, body: string(body), err: err}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		r.serverCN = resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	return r
}

// secretVolume lays files out as the kubelet does for a secret volume: tls.crt -> ..data/tls.crt,
// ..data -> ..<timestamp>/, and an update swaps ..data atomically (rename of a new symlink).
type secretVolume struct {
	dir string
	n   int
}

func newSecretVolume(t *testing.T) *secretVolume {
	t.Helper()
	v := &secretVolume{dir: t.TempDir()}
	for _, name := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(v.dir, name)))
	}
	return v
}

func (v *secretVolume) update(t *testing.T, files map[string][]byte) {
	t.Helper()
	v.n++
	version := fmt.Sprintf("..2026_11_22_00_00_%02d.%d", v.n, v.n)
	require.NoError(t, os.Mkdir(filepath.Join(v.dir, version), 0o755))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(v.dir, version, name), content, 0o600))
	}
	old, _ := os.Readlink(filepath.Join(v.dir, "..data"))
	require.NoError(t, os.Symlink(version, filepath.Join(v.dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(v.dir, "..data_tmp"), filepath.Join(v.dir, "..data")))
	if old != "" {
		require.NoError(t, os.RemoveAll(filepath.Join(v.dir, old)))
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "otelcol-sealos test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns tls.crt and tls.key for a 127.0.0.1 server certificate named cn.
func (ca *testCA) issue(t *testing.T, cn string) map[string][]byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}

// client trusts only the test CA and opens a new connection per request.
func (ca *testCA) client() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12},
		},
	}
}

// TestMetricsAuthManifestGrantsWhatTheExtensionNeeds applies deploy/kubernetes/optional/metrics-auth.yaml
// and asks the API server whether the collector may create TokenReviews and SubjectAccessReviews,
// and whether the example scraper may get /metrics (and nothing else).
func TestMetricsAuthManifestGrantsWhatTheExtensionNeeds(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := t.Context()
	disco, err := discovery.NewDiscoveryClientForConfig(c.Config)
	require.NoError(t, err)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	for _, file := range []string{"namespace.yaml", "rbac.yaml", filepath.Join("optional", "metrics-auth.yaml")} {
		raw, err := os.ReadFile(repoPath("deploy", "kubernetes", file))
		require.NoError(t, err)
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, file)
			if len(obj.Object) == 0 {
				continue
			}
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			require.NoError(t, err, "%s: %s", file, gvk)
			_, err = c.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"})
			require.NoError(t, err, "%s: %s %s", file, gvk.Kind, obj.GetName())
		}
	}

	allowed := func(user string, attrs authorizationv1.SubjectAccessReviewSpec) bool {
		attrs.User = user
		attrs.Groups = []string{"system:serviceaccounts", "system:authenticated"}
		sar, err := c.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: attrs}, metav1.CreateOptions{})
		require.NoError(t, err)
		return sar.Status.Allowed
	}
	create := func(group, resource string) authorizationv1.SubjectAccessReviewSpec {
		return authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Group: group, Resource: resource}}
	}
	get := func(path string) authorizationv1.SubjectAccessReviewSpec {
		return authorizationv1.SubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: path}}
	}
	collector, scraper := "system:serviceaccount:otelcol-sealos:otelcol-sealos", "system:serviceaccount:monitoring:prometheus-k8s"
	assert.Eventually(t, func() bool {
		return allowed(collector, create("authentication.k8s.io", "tokenreviews")) &&
			allowed(collector, create("authorization.k8s.io", "subjectaccessreviews")) &&
			allowed(scraper, get("/metrics"))
	}, 10*time.Second, 100*time.Millisecond, "the manifest grants the collector reviews and the scraper /metrics")
	assert.False(t, allowed(scraper, get("/federate")), "the scraper gets /metrics only")
	assert.False(t, allowed("system:serviceaccount:monitoring:other", get("/metrics")), "only the bound scraper")
}
