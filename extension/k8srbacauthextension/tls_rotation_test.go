package k8srbacauthextension

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/labring/otelcol-sealos/test/tlstest"
)

// TestConfigTLSFollowsSecretVolumeSwap pins the core behaviour the protected metrics endpoint
// relies on (so nothing of our own is needed for rotation): configtls v1.61.0 with
// reload_interval re-reads cert_file/key_file by path on a handshake after the interval, so a
// kubelet-style ..data symlink swap (cert-manager renewal) is served without a restart.
func TestConfigTLSFollowsSecretVolumeSwap(t *testing.T) {
	ca := tlstest.NewCA(t)
	secret := tlstest.NewSecretVolume(t)
	secret.Update(t, ca.Issue(t, "swap-v1"))

	for name, interval := range map[string]time.Duration{"with reload_interval": 100 * time.Millisecond, "without": 0} {
		t.Run(name, func(t *testing.T) {
			secret.Update(t, ca.Issue(t, "swap-v1"))
			sc := configtls.NewDefaultServerConfig()
			sc.CertFile, sc.KeyFile = secret.Path("tls.crt"), secret.Path("tls.key")
			sc.ReloadInterval = interval
			tlsCfg, err := sc.LoadTLSConfig(t.Context())
			require.NoError(t, err)
			url := serveTLS(t, tlsCfg)
			client := ca.Client()

			require.Equal(t, "swap-v1", tlstest.Get(client, url, "").ServerCN)
			secret.Update(t, ca.Issue(t, "swap-v2"))
			if interval == 0 {
				time.Sleep(300 * time.Millisecond) // three times the other case's interval
				assert.Equal(t, "swap-v1", tlstest.Get(client, url, "").ServerCN, "without reload_interval the files are read once")
				return
			}
			var last tlstest.Response
			assert.Eventually(t, func() bool {
				last = tlstest.Get(client, url, "")
				return last.ServerCN == "swap-v2"
			}, 10*time.Second, 50*time.Millisecond, "after the swap: %+v", last)
		})
	}
}

func serveTLS(t *testing.T, tlsCfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	require.NoError(t, err)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return "https://" + ln.Addr().String() + "/"
}
