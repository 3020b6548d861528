package registryproxyreceiver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/labring/otelcol-sealos/internal/netclassify"
	"github.com/labring/otelcol-sealos/internal/netresolve"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/registryproxyreceiver/internal/metadata"
)

// registrySource checks every registry once per cycle.
type registrySource struct {
	cfg *Config
	mb  *metadata.MetricsBuilder
	now func() time.Time

	targets  []*target
	resolver *net.Resolver
	dialer   *net.Dialer
}

// target is a validated Registry with what its checks need.
type target struct {
	endpoint
	name       string // the endpoint attribute: as configured, trimmed
	repository string
	reference  string
	info       string
	headers    http.Header // configured headers, sent to the registry's origin only
	accept     string
	tls        *tls.Config // nil: Go's defaults (system roots)
	credential auth.CredentialFunc
}

// targetResult is what one cycle learnt about one registry.
type targetResult struct {
	dnsReason string
	ips       []ipResult
}

type ipResult struct {
	addr          netip.Addr
	api, manifest checkResult
}

func newRegistrySource(cfg *Config, set receiver.Settings) *registrySource {
	return &registrySource{cfg: cfg, mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set), now: time.Now}
}

// Start prepares every registry's settings; only a TLS file that cannot be loaded fails it.
func (s *registrySource) Start(ctx context.Context, _ component.Host) error {
	s.resolver = netresolve.Resolver(s.cfg.DNSServer)
	s.dialer = &net.Dialer{Resolver: s.resolver}
	s.targets = make([]*target, 0, len(s.cfg.Registries))
	for i := range s.cfg.Registries {
		t, err := newTarget(ctx, &s.cfg.Registries[i])
		if err != nil {
			return fmt.Errorf("registries[%d].tls: %w", i, err)
		}
		s.targets = append(s.targets, t)
	}
	return nil
}

func newTarget(ctx context.Context, r *Registry) (*target, error) {
	ep, _ := parseEndpoint(r.Endpoint) // Validate has accepted it
	t := &target{
		endpoint: ep, name: strings.TrimSpace(r.Endpoint), repository: r.repository(), reference: r.Reference, info: r.Info,
		headers: http.Header{}, accept: strings.Join(r.ManifestAccept, ", "),
	}
	if len(r.ManifestAccept) == 0 {
		t.accept = strings.Join(defaultManifestAccept, ", ")
	}
	for k, v := range r.Headers {
		t.headers.Set(k, string(v))
	}
	if a := r.Auth; a != nil {
		// Only the registry's own host:port (as the requests name it) gets the credentials; oras
		// sends them to the token service that host's challenge names.
		t.credential = auth.StaticCredential(strings.TrimPrefix(ep.base, ep.scheme+"://"), auth.Credential{Username: a.Username, Password: string(a.Password)})
	}
	if ep.scheme == "https" {
		conf, err := r.TLS.LoadTLSConfig(ctx)
		if err != nil {
			return nil, err
		}
		t.tls = conf
	}
	return t, nil
}

// Lead has nothing to wait for: every check happens within Collect.
func (*registrySource) Lead(ctx context.Context, term statereceiver.Term) {
	term.Ready()
	<-ctx.Done()
}

func (*registrySource) Shutdown(context.Context) error { return nil }

// Collect resolves every registry, then checks every address, at most max_concurrent_checks at a
// time. A failed check is a measured fact (a typed error_type), not a failed cycle.
func (s *registrySource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	results := make([]targetResult, len(s.targets))
	s.run(ctx, len(s.targets), func(i int) { results[i] = s.resolve(ctx, s.targets[i]) })

	type job struct {
		t  *target
		ip *ipResult
	}
	var jobs []job
	for i, t := range s.targets {
		for j := range results[i].ips {
			jobs = append(jobs, job{t, &results[i].ips[j]})
		}
	}
	s.run(ctx, 2*len(jobs), func(i int) {
		j := jobs[i/2]
		if i%2 == 0 {
			j.ip.api = s.check(ctx, j.t, j.ip.addr, checkAPI)
		} else {
			j.ip.manifest = s.check(ctx, j.t, j.ip.addr, checkManifest)
		}
	})
	if err := ctx.Err(); err != nil {
		return pmetric.NewMetrics(), err // cut short: the results are not this cycle's truth
	}
	ts := pcommon.NewTimestampFromTime(s.now())
	for i, t := range s.targets {
		s.record(ts, t, &results[i])
	}
	return s.mb.Emit(), nil
}

// run calls do(0..n-1), at most max_concurrent_checks at a time.
func (s *registrySource) run(ctx context.Context, n int, do func(i int)) {
	var g errgroup.Group
	g.SetLimit(s.cfg.MaxConcurrentChecks)
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			do(i)
			return nil
		})
	}
	_ = g.Wait()
}

// resolve returns the registry's addresses (an address host is its own), or why there are none.
func (s *registrySource) resolve(ctx context.Context, t *target) targetResult {
	if ip, err := netip.ParseAddr(t.host); err == nil {
		return targetResult{ips: []ipResult{{addr: ip.Unmap()}}}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	addrs, err := s.resolver.LookupNetIP(ctx, "ip", t.host)
	if err != nil {
		return targetResult{dnsReason: netclassify.DNS(err)}
	}
	var r targetResult
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if a = a.Unmap(); !seen[a] {
			seen[a] = true
			r.ips = append(r.ips, ipResult{addr: a})
		}
	}
	if len(r.ips) == 0 {
		r.dnsReason = netclassify.DNSNoAnswer
	}
	return r
}

func (s *registrySource) record(ts pcommon.Timestamp, t *target, r *targetResult) {
	health := func(v int, typ metadata.AttributeHealthType) {
		s.mb.RecordRegistryProxyHealthDataPoint(ts, int64(v), t.name, t.scheme, t.host, t.port, t.info, t.repository, t.reference, typ)
	}
	s.mb.RecordRegistryProxyDNSStatusDataPoint(ts, boolValue(r.dnsReason == netclassify.None), t.name, t.scheme, t.host, t.port, t.info, t.repository, t.reference, r.dnsReason)
	healthy := 0
	for i := range r.ips {
		ip := &r.ips[i]
		if ip.api.passed() && ip.manifest.passed() {
			healthy++
		}
		addr := ip.addr.String()
		for _, c := range []struct {
			kind   metadata.AttributeCheckType
			result *checkResult
		}{{metadata.AttributeCheckTypeAPI, &ip.api}, {metadata.AttributeCheckTypeManifest, &ip.manifest}} {
			s.mb.RecordRegistryProxyStatusDataPoint(ts, boolValue(c.result.passed()), t.name, t.scheme, t.host, t.port, t.info, t.repository, t.reference,
				addr, c.kind, fmt.Sprint(c.result.status), c.result.reason)
			if c.result.responded {
				s.mb.RecordRegistryProxyResponseTimeDataPoint(ts, c.result.took.Seconds(), t.name, t.scheme, t.host, t.port, t.info, t.repository, t.reference, addr, c.kind)
			}
		}
	}
	health(int(boolValue(r.dnsReason == netclassify.None)), metadata.AttributeHealthTypeResolve)
	health(len(r.ips), metadata.AttributeHealthTypeIPCount)
	health(healthy, metadata.AttributeHealthTypeHealthyIps)
	health(len(r.ips)-healthy, metadata.AttributeHealthTypeUnhealthyIps)
}

func boolValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
