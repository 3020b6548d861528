package domainreceiver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"

	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

const defaultPort = 443

// Config is the domain receiver's configuration. Here the shared `timeout` bounds each single
// check (one DNS lookup, one TLS handshake, one HTTPS request), not the whole cycle.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`

	// Targets are the endpoints to check: each a string host[:port] or an object.
	Targets []Target `mapstructure:"targets"`
	// DialRetries is how many times a TCP connect plus TLS handshake is attempted within timeout.
	DialRetries int `mapstructure:"dial_retries"`
	// IncludeCertCheck reads and verifies each address's certificate.
	IncludeCertCheck bool `mapstructure:"include_cert_check"`
	// IncludeHTTPCheck sends an HTTPS request to each address.
	IncludeHTTPCheck bool `mapstructure:"include_http_check"`
	// IPv4 and IPv6 select the address families that are checked.
	IPv4 bool `mapstructure:"ipv4"`
	IPv6 bool `mapstructure:"ipv6"`
	// MaxConcurrentChecks bounds the DNS lookups, handshakes and requests in flight at once.
	MaxConcurrentChecks int `mapstructure:"max_concurrent_checks"`
	// DNSServer (host:port) is asked instead of the system resolver when set.
	DNSServer string `mapstructure:"dns_server"`
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string `mapstructure:"ca_file"`
}

// Target is one endpoint to check.
type Target struct {
	// Endpoint is host or host:port (port 443 by default); IPv6 with a port as [addr]:port.
	Endpoint string `mapstructure:"endpoint"`
	// Path (with an optional query) of the HTTPS request; "/" by default.
	Path string `mapstructure:"path"`
	// Method of the HTTPS request; GET by default.
	Method string `mapstructure:"method"`
	// Headers added to the HTTPS request; values are never logged.
	Headers map[string]configopaque.String `mapstructure:"headers"`
	// ExpectedStatusCodes are the healthy statuses; empty means 200-499.
	ExpectedStatusCodes []int `mapstructure:"expected_status_codes"`
	// InsecureSkipVerify skips chain and hostname verification (the validity window still counts).
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
	// FollowRedirects follows up to 10 redirects; when false the first response is evaluated.
	FollowRedirects bool `mapstructure:"follow_redirects"`
}

// Unmarshal accepts each target as a string (the endpoint) or an object, and defaults
// follow_redirects to true for both.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	if raw, ok := conf.Get("targets").([]any); ok {
		targets := make([]any, len(raw))
		for i, t := range raw {
			targets[i] = targetMap(t)
		}
		if err := conf.Merge(confmap.NewFromStringMap(map[string]any{"targets": targets})); err != nil {
			return err
		}
	}
	return conf.Unmarshal(c)
}

func targetMap(t any) any {
	switch v := t.(type) {
	case string:
		return map[string]any{"endpoint": v, "follow_redirects": true}
	case map[string]any:
		m := make(map[string]any, len(v)+1)
		m["follow_redirects"] = true
		for k, val := range v {
			m[k] = val
		}
		return m
	default:
		return t // mapstructure reports the wrong type
	}
}

// Validate reports bad settings, naming the key (and the target).
func (c *Config) Validate() error {
	var errs []error
	if c.Timeout == 0 {
		errs = append(errs, errors.New("timeout: must be positive: it bounds each DNS lookup, handshake and request"))
	}
	if c.DialRetries < 1 {
		errs = append(errs, fmt.Errorf("dial_retries: must be at least 1, got %d", c.DialRetries))
	}
	if c.MaxConcurrentChecks < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent_checks: must be at least 1, got %d", c.MaxConcurrentChecks))
	}
	if !c.IPv4 && !c.IPv6 {
		errs = append(errs, errors.New("ipv4, ipv6: at least one address family must be enabled"))
	}
	if c.DNSServer != "" {
		if _, _, err := splitHostPort(c.DNSServer, 0); err != nil {
			errs = append(errs, fmt.Errorf("dns_server: %w", err))
		}
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("targets: at least one target is required"))
	}
	seen := map[string]int{}
	for i, t := range c.Targets {
		if targetErrs := t.check(i); len(targetErrs) > 0 {
			errs = append(errs, targetErrs...)
			continue
		}
		key := strings.TrimSpace(t.Endpoint)
		if j, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("targets[%d].endpoint: %q is already targets[%d]; each endpoint may appear once", i, t.Endpoint, j))
		}
		seen[key] = i
	}
	return statereceiver.Validate(&c.Config, errs...)
}

// check validates targets[i]; it is not called Validate so that the config walker does not
// report its errors a second time.
func (t Target) check(i int) []error {
	var errs []error
	if _, _, err := parseEndpoint(t.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("targets[%d].endpoint: %w", i, err))
	}
	if strings.Contains(t.Path, "://") || strings.HasPrefix(t.Path, "//") {
		errs = append(errs, fmt.Errorf("targets[%d].path: %q must be a path such as /healthz, not a URL", i, t.Path))
	}
	if t.Method != "" && strings.ContainsAny(t.Method, " \t/") {
		errs = append(errs, fmt.Errorf("targets[%d].method: %q is not an HTTP method", i, t.Method))
	}
	for _, code := range t.ExpectedStatusCodes {
		if code < 100 || code > 599 {
			errs = append(errs, fmt.Errorf("targets[%d].expected_status_codes: %d is not an HTTP status (100-599)", i, code))
		}
	}
	return errs
}

// parseEndpoint splits host[:port] (IPv6 as [addr]:port or a bare address), rejecting URLs.
func parseEndpoint(endpoint string) (host string, port int, err error) {
	e := strings.TrimSpace(endpoint)
	switch {
	case e == "":
		return "", 0, errors.New("must not be empty")
	case strings.Contains(e, "://"):
		return "", 0, fmt.Errorf("%q has a scheme: give host[:port] only (HTTPS is implied)", e)
	case strings.ContainsAny(e, "/?#"):
		return "", 0, fmt.Errorf("%q has a path, query or fragment: give host[:port] only and put the path in `path`", e)
	}
	return splitHostPort(e, defaultPort)
}

// splitHostPort parses host:port. With a defaultPort other than 0 the port may be left out, and
// a bare IPv6 address ("::1" or "[::1]") is accepted.
func splitHostPort(s string, defaultPort int) (string, int, error) {
	if defaultPort != 0 {
		if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
			return ip.String(), defaultPort, nil
		}
		if !strings.Contains(s, ":") {
			return checkHost(s, defaultPort)
		}
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port (IPv6 with a port is [address]:port)", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("%q: port must be 1-65535", s)
	}
	return checkHost(host, port)
}

func checkHost(host string, port int) (string, int, error) {
	if host == "" || strings.ContainsAny(host, " \t[]@") {
		return "", 0, fmt.Errorf("%q is not a host name or address", host)
	}
	return host, port, nil
}
