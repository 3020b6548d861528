package domainreceiver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// testNow is the clock of every check in the tests; certificates are valid relative to it, so
// expiry values in the golden files do not move.
var testNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// testCA signs certificates; the trusted one is written to a ca_file, the rogue one is not.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name, Organization: []string{"otelcol-sealos tests"}},
		NotBefore: testNow.Add(-365 * 24 * time.Hour), NotAfter: testNow.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key}
}

// leaf issues a server certificate for names valid from notBefore to notAfter.
func (ca *testCA) leaf(t testing.TB, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writePEM writes the CA certificate to a file for ca_file.
func (ca *testCA) writePEM(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600))
	return path
}

// testMux answers by path: 200, a 301 to another host, 404, 500, and a request that never answers
// (until the client gives up or the test ends).
func testMux(redirectTo string, release <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, redirectTo, http.StatusMovedPermanently)
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("/hang", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	return mux // anything else: 404
}

// serveTLS serves handler with cert on every addr (ip:port); stopped when the test ends.
func serveTLS(t testing.TB, cert tls.Certificate, handler http.Handler, addrs ...string) {
	t.Helper()
	var listeners []net.Listener
	for _, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		require.NoError(t, err)
		listeners = append(listeners, l)
	}
	serveTLSOn(t, cert, handler, listeners...)
}

// serveTLSOn serves handler with cert on listeners; stopped when the test ends.
func serveTLSOn(t testing.TB, cert tls.Certificate, handler http.Handler, listeners ...net.Listener) {
	t.Helper()
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake failures are the point of most servers
	}
	var wg sync.WaitGroup
	for _, l := range listeners {
		wg.Go(func() { _ = srv.ServeTLS(l, "", "") })
	}
	t.Cleanup(func() {
		_ = srv.Close()
		wg.Wait()
	})
}

// commonPort finds a port free on every ip; the servers of one test all share it, so that the
// endpoints differ only by name.
func commonPort(t testing.TB, ips ...string) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		free := true
		for _, ip := range ips {
			l2, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				free = false
				break
			}
			_ = l2.Close()
		}
		_ = l.Close()
		if free {
			return port
		}
	}
	t.Fatal("no port free on every test address")
	return 0
}

// testDNS is an authoritative DNS server on loopback UDP for made-up names.
type testDNS struct {
	addr    string
	records map[string][]string // name (no trailing dot) -> addresses
	mu      sync.Mutex
	queries map[string]int
}

// Names with a special answer.
const (
	dnsNXDomain  = "nx.test"        // NXDOMAIN
	dnsEmpty     = "empty.test"     // NOERROR, no answer
	dnsBlackhole = "blackhole.test" // never answered
	dnsServFail  = "servfail.test"  // SERVFAIL
)

func startDNS(t testing.TB, records map[string][]string) *testDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	d := &testDNS{addr: pc.LocalAddr().String(), records: records, queries: map[string]int{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.answer), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return d
}

func (d *testDNS) answer(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
	d.mu.Lock()
	d.queries[name]++
	d.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	switch name {
	case dnsBlackhole:
		return
	case dnsServFail:
		m.Rcode = dns.RcodeServerFailure
	case dnsEmpty:
	default:
		addrs, ok := d.records[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
			break
		}
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 1}
		for _, a := range addrs {
			ip := net.ParseIP(a)
			switch {
			case q.Qtype == dns.TypeA && ip.To4() != nil:
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip.To4()})
			case q.Qtype == dns.TypeAAAA && ip.To4() == nil:
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
			}
		}
	}
	_ = w.WriteMsg(m)
}
