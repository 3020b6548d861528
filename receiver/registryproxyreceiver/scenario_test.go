package registryproxyreceiver

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/labring/otelcol-sealos/test/dnstest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/registrytest"
	"github.com/labring/otelcol-sealos/test/tlstest"
)

// scenario is a loopback world: three real registries (anonymous, behind a token service, HTTPS
// with a test CA), a closed port, a server that never answers and a DNS server for *.test names.
type scenario struct {
	plain, token, secure *registrytest.Registry
	tokens               *registrytest.TokenServer
	closedPort           string
	silentPort           string
	caFile               string
	dns                  *dnstest.Server
	// ports maps each random port to a stable name for golden files.
	ports map[string]string
}

const (
	pullUser     = "puller"
	pullPassword = "pull-secret"
)

func startScenario(t *testing.T) *scenario {
	t.Helper()
	ca := tlstest.NewCA(t)
	files := ca.Issue(t, "registry") // valid for 127.0.0.1 only
	sc := &scenario{tokens: registrytest.NewTokenServerT(t, map[string]string{pullUser: pullPassword})}
	sc.plain = registrytest.StartT(t, registrytest.Options{})
	sc.token = registrytest.StartT(t, registrytest.Options{Token: sc.tokens})
	sc.secure = registrytest.StartT(t, registrytest.Options{CertPEM: files["tls.crt"], KeyPEM: files["tls.key"], Client: ca.Client()})
	sc.plain.PushT(t, "library/app", "v1")
	sc.token.PushT(t, "library/private", "v1")
	sc.secure.PushT(t, "library/app", "v1")
	sc.closedPort = strconv.Itoa(otelcoltest.FreePort(t))
	sc.silentPort = strconv.Itoa(otelcoltest.SilentServer(t))
	sc.caFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(sc.caFile, ca.PEM(), 0o600))
	// multi.test: the registry on one address, nothing on the other.
	sc.dns = dnstest.Start(t, map[string][]string{"multi.test": {"127.0.0.1", "127.0.0.2"}, "tls.test": {"127.0.0.1"}})
	sc.ports = map[string]string{
		portOf(sc.plain.Addr): "PLAIN", portOf(sc.token.Addr): "TOKEN", portOf(sc.secure.Addr): "TLS",
		sc.closedPort: "CLOSED", sc.silentPort: "SILENT",
	}
	return sc
}

// registries is one registry per case the golden file shows.
func (sc *scenario) registries() []Registry {
	plain, token, secure := portOf(sc.plain.Addr), portOf(sc.token.Addr), portOf(sc.secure.Addr)
	withCA := configtls.ClientConfig{Config: configtls.Config{CAFile: sc.caFile}}
	creds := &Auth{Username: pullUser, Password: pullPassword}
	return []Registry{
		{Endpoint: "http://127.0.0.1:" + plain, Repository: "library/app", Reference: "v1", Info: "healthy"},
		{Endpoint: "http://multi.test:" + plain, Repository: "library/app", Reference: "v1", Info: "one address of two serves"},
		{Endpoint: "http://127.0.0.1:" + plain, Repository: "library/app", Reference: "missing", Info: "no such tag"},
		{Endpoint: "http://127.0.0.1:" + token, Repository: "library/private", Reference: "v1", Info: "token", Auth: creds},
		{Endpoint: "http://127.0.0.1:" + token, Repository: "library/private", Reference: "v1", Info: "token, wrong password", Auth: &Auth{Username: pullUser, Password: "wrong"}},
		{Endpoint: "http://127.0.0.1:" + token, Repository: "library/private", Reference: "v1", Info: "token, no credentials"},
		{Endpoint: "https://127.0.0.1:" + secure, Repository: "library/app", Reference: "v1", Info: "tls", TLS: withCA},
		{Endpoint: "https://127.0.0.1:" + secure, Repository: "library/app", Reference: "v1", Info: "tls, CA not trusted"},
		{Endpoint: "https://tls.test:" + secure, Repository: "library/app", Reference: "v1", Info: "tls, certificate for another host", TLS: withCA},
		{Endpoint: "http://127.0.0.1:" + sc.closedPort, Repository: "library/app", Reference: "v1", Info: "closed port"},
		{Endpoint: "http://127.0.0.1:" + sc.silentPort, Repository: "library/app", Reference: "v1", Info: "never answers"},
		{Endpoint: "http://" + dnstest.NXDomain + ":" + plain, Repository: "library/app", Reference: "v1", Info: "no such host"},
		{Endpoint: "http://" + dnstest.Empty + ":" + plain, Repository: "library/app", Reference: "v1", Info: "no address"},
	}
}

// stable replaces the scenario's random ports in an attribute value by their names.
func (sc *scenario) stable(v string) string {
	for port, name := range sc.ports {
		if v == port {
			return name
		}
		v = strings.ReplaceAll(v, ":"+port, ":"+name)
	}
	return v
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
