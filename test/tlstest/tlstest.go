// Package tlstest makes test certificates and lays them out as the kubelet does for a secret
// volume, so tests can rotate a served certificate the way cert-manager + the kubelet do.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// CA signs server certificates for 127.0.0.1.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	Pool *x509.CertPool
}

// NewCA makes a self-signed CA valid for an hour.
func NewCA(t testing.TB) *CA {
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
	return &CA{cert: cert, key: key, Pool: pool}
}

// Issue returns the files of a secret holding a 127.0.0.1 server certificate whose
// common name is cn: "tls.crt" and "tls.key" (PEM).
func (ca *CA) Issue(t testing.TB, cn string) map[string][]byte {
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

// PEM is the CA certificate, for a component's ca_file.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// Client trusts only the CA and opens a new connection (a new handshake) per request.
func (ca *CA) Client() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12},
		},
	}
}

// SecretVolume lays files out as the kubelet does for a secret volume: tls.crt -> ..data/tls.crt,
// ..data -> ..<timestamp>/; Update swaps ..data atomically (rename of a new symlink) and removes
// the previous version, as the kubelet's atomic writer does when cert-manager renews the secret.
type SecretVolume struct {
	Dir string
	n   int
}

// NewSecretVolume makes an empty volume in a temporary folder with links for tls.crt and tls.key.
func NewSecretVolume(t testing.TB) *SecretVolume {
	t.Helper()
	v := &SecretVolume{Dir: t.TempDir()}
	for _, name := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(v.Dir, name)))
	}
	return v
}

// Path is the path a consumer is configured with (e.g. tls.crt).
func (v *SecretVolume) Path(name string) string { return filepath.Join(v.Dir, name) }

// Update publishes files as the volume's new content.
func (v *SecretVolume) Update(t testing.TB, files map[string][]byte) {
	t.Helper()
	v.n++
	version := fmt.Sprintf("..2026_11_22_00_00_%02d.%d", v.n, v.n)
	require.NoError(t, os.Mkdir(filepath.Join(v.Dir, version), 0o755))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(v.Dir, version, name), content, 0o600))
	}
	old, _ := os.Readlink(filepath.Join(v.Dir, "..data"))
	require.NoError(t, os.Symlink(version, filepath.Join(v.Dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(v.Dir, "..data_tmp"), filepath.Join(v.Dir, "..data")))
	if old != "" {
		require.NoError(t, os.RemoveAll(filepath.Join(v.Dir, old)))
	}
}

// Response is what Get saw.
type Response struct {
	Status int
	Body   string
	// ServerCN is the common name of the certificate the server presented.
	ServerCN string
	Err      error
}

// Get GETs url with client, sending token as a bearer token when not empty.
func Get(client *http.Client, url, token string) Response {
	req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
	if err != nil {
		return Response{Err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Body: string(body), Err: err}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		r.ServerCN = resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	return r
}
