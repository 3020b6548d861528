package domainreceiver

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

// scenario is a loopback world: a DNS server for *.test names and TLS servers, all on one port.
type scenario struct {
	port   int
	dns    *testDNS
	caFile string
}

// Addresses of the scenario's servers (127.0.0.0/8 is all loopback on Linux).
const (
	ipSite      = "127.0.0.1" // valid certificate, the test mux
	ipMultiA    = "127.0.0.2" // multi.test: valid certificate on three addresses
	ipMultiB    = "127.0.0.3"
	ipMultiV6   = "::1"
	ipExpired   = "127.0.0.4"
	ipNotYet    = "127.0.0.5"
	ipWrongHost = "127.0.0.6"
	ipUntrusted = "127.0.0.7"
	ipRefused   = "127.0.0.8" // nothing listens
)

var siteNames = []string{"ok.test", "mixed.test", "redirect.test", "nofollow.test", "notfound.test", "notfound-strict.test", "error.test", "hang.test", "other.test"}

func startScenario(t *testing.T) *scenario {
	t.Helper()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	port := commonPort(t, ipMultiA, ipMultiB, ipExpired, ipNotYet, ipWrongHost, ipUntrusted)
	at := func(ip string) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

	ca, rogue := newCA(t, "Test Root CA"), newCA(t, "Rogue CA")
	year := 365 * 24 * time.Hour
	mux := testMux("https://"+at("other.test")+"/ok", release)
	serveTLS(t, ca.leaf(t, testNow.Add(-24*time.Hour), testNow.Add(90*24*time.Hour), siteNames...), mux, at(ipSite))
	serveTLS(t, ca.leaf(t, testNow.Add(-24*time.Hour), testNow.Add(30*24*time.Hour), "multi.test"), mux, at(ipMultiA), at(ipMultiB), at(ipMultiV6))
	serveTLS(t, ca.leaf(t, testNow.Add(-year), testNow.Add(-48*time.Hour), "expired.test"), mux, at(ipExpired))
	serveTLS(t, ca.leaf(t, testNow.Add(72*time.Hour), testNow.Add(year), "notyet.test"), mux, at(ipNotYet))
	serveTLS(t, ca.leaf(t, testNow.Add(-24*time.Hour), testNow.Add(60*24*time.Hour), "someone-else.test"), mux, at(ipWrongHost))
	serveTLS(t, rogue.leaf(t, testNow.Add(-24*time.Hour), testNow.Add(45*24*time.Hour), "untrusted.test", "insecure.test"), mux, at(ipUntrusted))

	records := map[string][]string{
		"multi.test": {ipMultiA, ipMultiB, ipMultiV6}, "v6only.test": {ipMultiV6},
		"expired.test": {ipExpired}, "notyet.test": {ipNotYet}, "wronghost.test": {ipWrongHost},
		"untrusted.test": {ipUntrusted}, "insecure.test": {ipUntrusted}, "refused.test": {ipRefused},
	}
	for _, n := range siteNames {
		records[n] = []string{ipSite}
	}
	records["mixed.test"] = []string{ipSite, ipRefused} // each address is checked on its own
	return &scenario{port: port, dns: startDNS(t, records), caFile: ca.writePEM(t)}
}

// target is name:port as a string target, or with the object fields of tweak.
func (sc *scenario) target(name string, tweak func(*Target)) Target {
	t := Target{Endpoint: name + ":" + strconv.Itoa(sc.port), FollowRedirects: true, Path: "/ok"}
	if tweak != nil {
		tweak(&t)
	}
	return t
}

func (sc *scenario) config(targets ...Target) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Timeout = 3 * time.Second
	cfg.DNSServer = sc.dns.addr
	cfg.CAFile = sc.caFile
	cfg.Targets = targets
	return cfg
}

func path(p string) func(*Target) { return func(t *Target) { t.Path = p } }

// allTargets covers every failure reason the checks can report on loopback.
func (sc *scenario) allTargets() []Target {
	strict := func(p string, follow bool) func(*Target) {
		return func(t *Target) { t.Path, t.ExpectedStatusCodes, t.FollowRedirects = p, []int{200}, follow }
	}
	return []Target{
		sc.target("ok.test", nil),
		sc.target("multi.test", nil),
		sc.target("mixed.test", nil),
		sc.target("redirect.test", strict("/redirect", true)),
		sc.target("nofollow.test", strict("/redirect", false)),
		sc.target("notfound.test", path("/missing")),
		sc.target("notfound-strict.test", strict("/missing", true)),
		sc.target("error.test", path("/error")),
		sc.target("hang.test", path("/hang")),
		sc.target("expired.test", nil),
		sc.target("notyet.test", nil),
		sc.target("wronghost.test", nil),
		sc.target("untrusted.test", nil),
		sc.target("insecure.test", func(t *Target) { t.InsecureSkipVerify = true }),
		sc.target("refused.test", nil),
		sc.target(dnsNXDomain, nil),
		sc.target(dnsEmpty, nil),
		sc.target(dnsServFail, nil),
		sc.target(dnsBlackhole, nil),
	}
}

func collect(t *testing.T, cfg *Config) pmetric.Metrics {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s := newDomainSource(cfg, receivertest.NewNopSettings(metadata.Type))
	s.now = func() time.Time { return testNow }
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, s.Shutdown(context.Background())) }()
	md, err := s.Collect(context.Background())
	require.NoError(t, err)
	return md
}

// withoutPort drops the scenario's random port from the domain attribute, so golden files are stable.
func withoutPort(md pmetric.Metrics, port int) {
	suffix := ":" + strconv.Itoa(port)
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				dps := ms.At(k).Gauge().DataPoints()
				for l := range dps.Len() {
					attrs := dps.At(l).Attributes()
					if v, ok := attrs.Get("domain"); ok {
						attrs.PutStr("domain", strings.TrimSuffix(v.Str(), suffix))
					}
				}
			}
		}
	}
}

func compareGolden(t *testing.T, name string, md pmetric.Metrics) {
	t.Helper()
	file := filepath.Join("testdata", "expected_metrics", name)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, file, md))
	}
	want, err := golden.ReadMetrics(file)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreMetricsOrder(),
		// Wall times of real lookups and requests: their presence is compared, not their values.
		pmetrictest.IgnoreMetricValues("domain.response_time", "domain.dns_lookup_duration")))
}

func TestCollectGoldenEveryReason(t *testing.T) {
	sc := startScenario(t)
	md := collect(t, sc.config(sc.allTargets()...))
	withoutPort(md, sc.port)
	compareGolden(t, "all_reasons.yaml", md)
}

func TestCollectGoldenIPv4Only(t *testing.T) {
	sc := startScenario(t)
	cfg := sc.config(sc.target("multi.test", nil), sc.target("v6only.test", nil))
	cfg.IPv6 = false
	md := collect(t, cfg)
	withoutPort(md, sc.port)
	compareGolden(t, "ipv4_only.yaml", md)
}

// ipv4: false checks the IPv6 addresses only: multi.test on ::1 alone, and a name with IPv4
// addresses only has no answer (dns_no_answer), not an empty success.
func TestCollectGoldenIPv6Only(t *testing.T) {
	sc := startScenario(t)
	cfg := sc.config(sc.target("multi.test", nil), sc.target("v6only.test", nil), sc.target("ok.test", nil))
	cfg.IPv4 = false
	md := collect(t, cfg)
	withoutPort(md, sc.port)
	compareGolden(t, "ipv6_only.yaml", md)
}

func TestCollectGoldenCertCheckOnly(t *testing.T) {
	sc := startScenario(t)
	cfg := sc.config(sc.target("multi.test", nil), sc.target("expired.test", nil), sc.target("error.test", path("/error")))
	cfg.IncludeHTTPCheck = false
	md := collect(t, cfg)
	withoutPort(md, sc.port)
	compareGolden(t, "cert_check_only.yaml", md)
}

// The expired certificate's expiry is reported, and negative: the series to alert on.
func TestExpiredCertificateReportsNegativeExpiry(t *testing.T) {
	sc := startScenario(t)
	md := collect(t, sc.config(sc.target("expired.test", nil)))
	got := map[string]float64{}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for k := range ms.Len() {
			if dps := ms.At(k).Gauge().DataPoints(); dps.Len() > 0 && dps.At(0).ValueType() == pmetric.NumberDataPointValueTypeDouble {
				got[ms.At(k).Name()] = dps.At(0).DoubleValue()
			}
		}
	}
	require.InDelta(t, (-48 * time.Hour).Seconds(), got["domain.cert_expiry"], 0.001)
	require.InDelta(t, float64(testNow.Add(-48*time.Hour).Unix()), got["domain.cert_not_after_timestamp"], 0.001)
}

func TestConfiguredDNSServerIsAsked(t *testing.T) {
	sc := startScenario(t)
	collect(t, sc.config(sc.target("refused.test", nil)))
	sc.dns.mu.Lock()
	defer sc.dns.mu.Unlock()
	require.Positive(t, sc.dns.queries["refused.test"], "the configured dns_server was not asked")
}

// seriesOf flattens md to "name{k=v,...}" → value, leaving out the domain attribute (the port
// varies) and empty attribute values.
func seriesOf(md pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				dps := ms.At(k).Gauge().DataPoints()
				for l := range dps.Len() {
					dp := dps.At(l)
					var labels []string
					dp.Attributes().Range(func(key string, v pcommon.Value) bool {
						if key != "domain" && v.Str() != "" {
							labels = append(labels, key+"="+v.Str())
						}
						return true
					})
					sort.Strings(labels)
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					out[ms.At(k).Name()+"{"+strings.Join(labels, ",")+"}"] = v
				}
			}
		}
	}
	return out
}
