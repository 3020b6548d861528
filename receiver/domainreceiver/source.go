package domainreceiver

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

// domainSource checks every target once per cycle.
type domainSource struct {
	cfg *Config
	mb  *metadata.MetricsBuilder
	now func() time.Time

	targets  []*target
	resolver *net.Resolver
	dialer   *net.Dialer
	roots    *x509.CertPool // nil: the system roots
}

// target is a validated Target with what each check needs.
type target struct {
	Target
	name   string // the domain attribute: the endpoint as configured
	host   string
	port   int
	url    string
	client *http.Client
}

func newDomainSource(cfg *Config, set receiver.Settings) *domainSource {
	return &domainSource{cfg: cfg, mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set), now: time.Now}
}

func (s *domainSource) Start(context.Context, component.Host) error {
	s.resolver = net.DefaultResolver
	if s.cfg.DNSServer != "" {
		s.resolver = dnsServerResolver(s.cfg.DNSServer)
	}
	s.dialer = &net.Dialer{Resolver: s.resolver}
	if s.cfg.CAFile != "" {
		roots, err := loadRoots(s.cfg.CAFile)
		if err != nil {
			return err
		}
		s.roots = roots
	}
	s.targets = make([]*target, 0, len(s.cfg.Targets))
	for _, t := range s.cfg.Targets {
		s.targets = append(s.targets, s.newTarget(t))
	}
	return nil
}

// dnsServerResolver asks server (host:port) instead of the system's name servers. A lookup whose
// caller gave up is cancelled but would otherwise keep its socket until the resolver's own per-try
// timeout (5s): closing the socket on cancel frees it at once.
func dnsServerResolver(server string) *net.Resolver {
	d := &net.Dialer{}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, server)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}}
}

// loadRoots is the system pool plus the certificates of caFile.
func loadRoots(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file: %s holds no PEM certificate", caFile)
	}
	return roots, nil
}

func (s *domainSource) newTarget(cfg Target) *target {
	host, port, _ := parseEndpoint(cfg.Endpoint) // Validate has accepted it
	t := &target{Target: cfg, name: strings.TrimSpace(cfg.Endpoint), host: host, port: port}
	t.Method = strings.ToUpper(cfg.Method)
	if t.Method == "" {
		t.Method = http.MethodGet
	}
	path := cfg.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	authority := host
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() {
		authority = "[" + host + "]"
	}
	if port != defaultPort {
		authority = net.JoinHostPort(host, strconv.Itoa(port))
	}
	t.url = "https://" + authority + path
	t.client = s.httpClient(t)
	return t
}

// Lead has nothing to wait for: every check happens within Collect.
func (*domainSource) Lead(ctx context.Context, term statereceiver.Term) {
	term.Ready()
	<-ctx.Done()
}

// Collect checks every target; ending ctx (lease lost, shutdown) aborts the checks in flight.
func (s *domainSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	now := s.now()
	results := s.runChecks(ctx)
	ts := pcommon.NewTimestampFromTime(now)
	for i, t := range s.targets {
		s.record(ts, now, t, &results[i])
	}
	return s.mb.Emit(), nil
}

func (*domainSource) Shutdown(context.Context) error { return nil }

func (s *domainSource) record(ts pcommon.Timestamp, now time.Time, t *target, r *targetResult) {
	s.mb.RecordDomainDNSLookupDurationDataPoint(ts, r.lookup.Seconds(), t.name)
	if r.dnsReason != reasonNone {
		s.mb.RecordDomainDNSStatusDataPoint(ts, 0, t.name, r.dnsReason)
		for _, typ := range []metadata.AttributeHealthType{metadata.AttributeHealthTypeResolve, metadata.AttributeHealthTypeIPCount, metadata.AttributeHealthTypeHealthyIps, metadata.AttributeHealthTypeUnhealthyIps} {
			s.mb.RecordDomainHealthDataPoint(ts, 0, t.name, typ)
		}
		return
	}
	s.mb.RecordDomainDNSStatusDataPoint(ts, 1, t.name, reasonNone)
	healthy := 0
	for _, ip := range r.ips {
		ipStr := ip.addr.String()
		if ip.healthy(s.cfg) {
			healthy++
		}
		if s.cfg.IncludeHTTPCheck {
			s.mb.RecordDomainStatusDataPoint(ts, boolValue(ip.http.reason == reasonNone), t.name, ipStr, metadata.AttributeCheckTypeHTTP, ip.http.reason)
			if ip.http.responded {
				s.mb.RecordDomainResponseTimeDataPoint(ts, ip.http.took.Seconds(), t.name, ipStr)
			}
		}
		if s.cfg.IncludeCertCheck {
			s.mb.RecordDomainStatusDataPoint(ts, boolValue(ip.cert.reason == reasonNone), t.name, ipStr, metadata.AttributeCheckTypeCert, ip.cert.reason)
			if leaf := ip.cert.leaf; leaf != nil {
				s.mb.RecordDomainCertExpiryDataPoint(ts, leaf.NotAfter.Sub(now).Seconds(), t.name, ipStr)
				s.mb.RecordDomainCertNotAfterTimestampDataPoint(ts, float64(leaf.NotAfter.Unix()), t.name, ipStr)
				s.mb.RecordDomainCertInfoDataPoint(ts, 1, t.name, ipStr, leaf.Issuer.String(), leaf.Subject.String())
			}
		}
	}
	s.mb.RecordDomainHealthDataPoint(ts, 1, t.name, metadata.AttributeHealthTypeResolve)
	s.mb.RecordDomainHealthDataPoint(ts, int64(len(r.ips)), t.name, metadata.AttributeHealthTypeIPCount)
	s.mb.RecordDomainHealthDataPoint(ts, int64(healthy), t.name, metadata.AttributeHealthTypeHealthyIps)
	s.mb.RecordDomainHealthDataPoint(ts, int64(len(r.ips)-healthy), t.name, metadata.AttributeHealthTypeUnhealthyIps)
}

func boolValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
