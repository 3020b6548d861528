package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	"github.com/labring/otelcol-sealos/test/tlstest"
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

	ca := tlstest.NewCA(t)
	secret := tlstest.NewSecretVolume(t)
	secret.Update(t, ca.Issue(t, "metrics-v1"))

	mwPort, authPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	exporter := func(port int, protect string) string {
		return fmt.Sprintf(`    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
    tls:
      cert_file: %s
      key_file: %s
      reload_interval: 1s
%s`, port, secret.Path("tls.crt"), secret.Path("tls.key"), protect)
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

	client := ca.Client()
	mwURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", mwPort)
	authURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", authPort)

	var last tlstest.Response
	ok := assert.Eventually(t, func() bool {
		last = tlstest.Get(client, mwURL, readerToken)
		return last.Status == http.StatusOK && strings.Contains(last.Body, "sealos_node_healthy{")
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "authorised scrape: %+v\ncollector exited: %v", last, col.Exited())
	assert.Equal(t, "metrics-v1", last.ServerCN)

	// Middleware: the four outcomes, and the path is the request's own.
	assert.Equal(t, http.StatusUnauthorized, tlstest.Get(client, mwURL, "").Status, "no token")
	assert.Equal(t, http.StatusUnauthorized, tlstest.Get(client, mwURL, "not-a-token").Status, "bad token")
	assert.Equal(t, http.StatusForbidden, tlstest.Get(client, mwURL, nobodyToken).Status, "valid token, no RBAC")
	assert.Equal(t, http.StatusOK, tlstest.Get(client, mwURL, readerToken).Status, "valid token, ClusterRole grants /metrics")
	assert.Equal(t, http.StatusForbidden, tlstest.Get(client, strings.TrimSuffix(mwURL, "metrics")+"federate", readerToken).Status,
		"/metrics does not grant /federate")

	// confighttp `auth:`: allowed is 200, anything else 401 (confighttp's fixed failure status).
	assert.Equal(t, http.StatusOK, tlstest.Get(client, authURL, readerToken).Status)
	assert.Equal(t, http.StatusUnauthorized, tlstest.Get(client, authURL, "").Status)
	assert.Equal(t, http.StatusUnauthorized, tlstest.Get(client, authURL, nobodyToken).Status)

	// Rotate the way the kubelet does for a cert-manager secret: both endpoints serve the new
	// certificate on new connections, without a restart.
	secret.Update(t, ca.Issue(t, "metrics-v2"))
	for _, url := range []string{mwURL, authURL} {
		ok = assert.Eventually(t, func() bool {
			last = tlstest.Get(client, url, readerToken)
			return last.Status == http.StatusOK && last.ServerCN == "metrics-v2"
		}, 30*time.Second, 200*time.Millisecond)
		require.True(t, ok, "rotated certificate on %s: %+v\ncollector exited: %v", url, last, col.Exited())
	}
	assert.False(t, col.Exited())
	for _, tok := range []string{readerToken, nobodyToken} {
		assert.NotContains(t, col.Output(), tok, "a token reached the collector's log")
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
