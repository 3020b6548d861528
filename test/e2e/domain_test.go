package e2e

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
	"log"
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

	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// domainTLSServer serves 200 on 127.0.0.1 with a certificate for localhost issued by a fresh CA,
// valid until notAfter; it returns the listen address and the CA as a PEM file.
func domainTLSServer(t *testing.T, notAfter time.Time) (addr, caFile string) {
	t.Helper()
	addrs, caFile := domainTLSServers(t, leafSpec{dnsName: "localhost", notBefore: time.Now().Add(-time.Hour), notAfter: notAfter})
	return addrs[0], caFile
}

// leafSpec is one server certificate: its name and validity.
type leafSpec struct {
	dnsName             string
	notBefore, notAfter time.Time
}

// domainTLSServers serves 200 on 127.0.0.1, one server per leaf, all issued by one fresh CA; it
// returns the listen addresses and the CA as a PEM file.
func domainTLSServers(t *testing.T, leaves ...leafSpec) (addrs []string, caFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "E2E Root CA"},
		NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	for i, leaf := range leaves {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		leafTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: leaf.dnsName}, DNSNames: []string{leaf.dnsName},
			NotBefore: leaf.notBefore, NotAfter: leaf.notAfter,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, caKey)
		require.NoError(t, err)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{
			Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
		}
		go func() { _ = srv.ServeTLS(l, "", "") }()
		t.Cleanup(func() { _ = srv.Close() })
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, caFile
}

// The domain receiver through the real binary and the prometheus exporter: the predecessor's
// series names and labels, plus the new certificate and DNS series.
func TestDomainReceiverThroughPrometheus(t *testing.T) {
	notAfter := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	addr, caFile := domainTLSServer(t, notAfter)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	healthy := "localhost:" + port
	refused := fmt.Sprintf("127.0.0.1:%d", otelcoltest.FreePort(t))
	promPort := otelcoltest.FreePort(t)
	cfg := writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(`receivers:
  domain:
    collection_interval: 200ms
    timeout: 5s
    ipv6: false
    ca_file: %s
    targets:
      - %s
      - endpoint: %s
        path: /healthz
`, caFile, healthy, refused), promPort, 0, "domain"))
	col := otelcoltest.Start(t, cfg)

	ok := func(domain string) map[string]float64 {
		return map[string]float64{
			`sealos_domain_dns_status{domain="` + domain + `",error_type=""}`: 1,
			`sealos_domain_health{domain="` + domain + `",type="resolve"}`:    1,
			`sealos_domain_health{domain="` + domain + `",type="ip_count"}`:   1,
		}
	}
	want := map[string]float64{
		`sealos_domain_health{domain="` + healthy + `",type="healthy_ips"}`:                                               1,
		`sealos_domain_health{domain="` + healthy + `",type="unhealthy_ips"}`:                                             0,
		`sealos_domain_status{check_type="http",domain="` + healthy + `",error_type="",ip="127.0.0.1"}`:                   1,
		`sealos_domain_status{check_type="cert",domain="` + healthy + `",error_type="",ip="127.0.0.1"}`:                   1,
		`sealos_domain_cert_not_after_timestamp_seconds{domain="` + healthy + `",ip="127.0.0.1"}`:                         float64(notAfter.Unix()),
		`sealos_domain_cert_info{domain="` + healthy + `",ip="127.0.0.1",issuer="CN=E2E Root CA",subject="CN=localhost"}`: 1,
		`sealos_domain_health{domain="` + refused + `",type="healthy_ips"}`:                                               0,
		`sealos_domain_health{domain="` + refused + `",type="unhealthy_ips"}`:                                             1,
		`sealos_domain_status{check_type="http",domain="` + refused + `",error_type="connection_refused",ip="127.0.0.1"}`: 0,
		`sealos_domain_status{check_type="cert",domain="` + refused + `",error_type="connection_refused",ip="127.0.0.1"}`: 0,
	}
	for _, d := range []string{healthy, refused} {
		for k, v := range ok(d) {
			want[k] = v
		}
	}
	// Wall-time series: present, values checked for sanity below.
	timed := []string{
		`sealos_domain_response_time_seconds{domain="` + healthy + `",ip="127.0.0.1"}`,
		`sealos_domain_cert_expiry_seconds{domain="` + healthy + `",ip="127.0.0.1"}`,
		`sealos_domain_dns_lookup_duration_seconds{domain="` + healthy + `"}`,
		`sealos_domain_dns_lookup_duration_seconds{domain="` + refused + `"}`,
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort)
	var got map[string]float64
	done := assert.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return false
		}
		got = series.WithPrefix(all, "sealos_domain_")
		return len(got) == len(want)+len(timed)
	}, waitFor, 200*time.Millisecond)
	require.True(t, done, "domain series: %v\ncollector exited: %v", got, col.Exited())

	timedGot := map[string]float64{}
	for _, k := range timed {
		require.Contains(t, got, k)
		timedGot[k] = got[k]
		delete(got, k)
	}
	assert.Equal(t, want, got)
	assert.InDelta(t, time.Until(notAfter).Seconds(), timedGot[timed[1]], 120, "cert expiry seconds")
	assert.Greater(t, timedGot[timed[0]], 0.0)
	assert.Less(t, timedGot[timed[0]], 5.0)
	for name := range got {
		assert.False(t, strings.HasSuffix(name, "_seconds_seconds"), name)
	}
}
