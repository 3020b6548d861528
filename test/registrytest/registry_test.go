package registrytest

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/tlstest"
)

// The helper itself: a pushed manifest is served, anonymously and (with a token) behind the token
// service, over HTTP and HTTPS.
func TestPushedManifestIsServed(t *testing.T) {
	ca := tlstest.NewCA(t)
	files := ca.Issue(t, "registry")
	tokens := NewTokenServerT(t, map[string]string{"puller": "pull-secret"})
	for name, opts := range map[string]Options{
		"http":        {},
		"https":       {CertPEM: files["tls.crt"], KeyPEM: files["tls.key"], Client: ca.Client()},
		"token realm": {Token: tokens},
	} {
		t.Run(name, func(t *testing.T) {
			reg := StartT(t, opts)
			digest := reg.PushT(t, "library/app", "v1")
			client := opts.Client
			if client == nil {
				client = http.DefaultClient
			}
			req, err := http.NewRequest(http.MethodGet, reg.URL+"/v2/library/app/manifests/v1", http.NoBody)
			require.NoError(t, err)
			req.Header.Set("Accept", MediaTypeManifest)
			if opts.Token != nil {
				resp, err := client.Do(req.Clone(req.Context()))
				require.NoError(t, err)
				_ = resp.Body.Close()
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "without a token")
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `Bearer realm="`+tokens.Realm()+`"`)
				token, err := tokens.Mint("puller", Access{Type: "repository", Name: "library/app", Actions: []string{"pull"}})
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s\n%s", body, reg.Output())
			assert.Equal(t, digest, resp.Header.Get("Docker-Content-Digest"))
		})
	}
}
