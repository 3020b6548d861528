package registryproxyreceiver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"
	"oras.land/oras-go/v2/registry"

	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/registryproxyreceiver/internal/metadata"
)

// defaultManifestAccept is what a puller such as containerd accepts: an image index or a single
// manifest, OCI or Docker v2. Accepting only single manifests fails for multi-platform tags.
var defaultManifestAccept = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// Config is the registryproxy receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`

	// Registries are the registries to check.
	Registries []Registry `mapstructure:"registries"`
	// CheckTimeout bounds one lookup and one check (each request with its redirects and token fetch).
	CheckTimeout time.Duration `mapstructure:"check_timeout"`
	// MaxConcurrentChecks bounds the lookups and checks in flight at once.
	MaxConcurrentChecks int `mapstructure:"max_concurrent_checks"`
	// DNSServer (host:port) is asked instead of the system resolver when set.
	DNSServer string `mapstructure:"dns_server"`
}

// Registry is one registry and the manifest that proves it serves images.
type Registry struct {
	// Endpoint is scheme://host[:port]: http or https, no path; the port defaults to the scheme's.
	Endpoint string `mapstructure:"endpoint"`
	// Repository and Reference (a tag or a digest) name the manifest to fetch.
	Repository string `mapstructure:"repository"`
	Reference  string `mapstructure:"reference"`
	// Info is free text carried as the info attribute.
	Info string `mapstructure:"info"`
	// Headers are added to every request to the registry (never to another host); values are
	// never logged.
	Headers map[string]configopaque.String `mapstructure:"headers"`
	// ManifestAccept is the Accept header of the manifest request; empty: OCI and Docker v2
	// manifests and indexes.
	ManifestAccept []string `mapstructure:"manifest_accept"`
	// Auth is sent when the registry (or its token service) asks for credentials.
	Auth *Auth `mapstructure:"auth"`
	// TLS are the client TLS settings for an https endpoint (ca_file, insecure_skip_verify, ...).
	TLS configtls.ClientConfig `mapstructure:"tls"`
}

// Auth is a registry user.
type Auth struct {
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
}

// endpoint is a parsed Registry.Endpoint.
type endpoint struct {
	scheme, host, port string
	base               string // scheme://authority as configured, without a trailing slash
}

// Validate reports every bad setting, naming its key.
func (c *Config) Validate() error {
	var errs []error
	if c.CheckTimeout <= 0 {
		errs = append(errs, fmt.Errorf("check_timeout: must be positive, got %s", c.CheckTimeout))
	}
	if c.MaxConcurrentChecks < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent_checks: must be at least 1, got %d", c.MaxConcurrentChecks))
	}
	if c.DNSServer != "" {
		if _, _, err := net.SplitHostPort(c.DNSServer); err != nil {
			errs = append(errs, fmt.Errorf("dns_server: %q is not host:port", c.DNSServer))
		}
	}
	if len(c.Registries) == 0 {
		errs = append(errs, errors.New("registries: at least one registry is required"))
	}
	seen := map[seriesKey]int{}
	for i, r := range c.Registries {
		regErrs := r.check()
		for _, err := range regErrs {
			errs = append(errs, fmt.Errorf("registries[%d].%w", i, err))
		}
		if len(regErrs) > 0 {
			continue
		}
		k := r.key()
		if j, dup := seen[k]; dup {
			errs = append(errs, fmt.Errorf("registries[%d]: same endpoint, repository, reference and info as registries[%d]; their series would collide", i, j))
			continue
		}
		seen[k] = i
	}
	return statereceiver.Validate(&c.Config, errs...)
}

// seriesKey is what tells two registries' series apart.
type seriesKey struct{ endpoint, repository, reference, info string }

func (r *Registry) key() seriesKey {
	return seriesKey{strings.TrimSpace(r.Endpoint), r.repository(), r.Reference, r.Info}
}

// repository is the configured repository without leading or trailing slashes.
func (r *Registry) repository() string { return strings.Trim(strings.TrimSpace(r.Repository), "/") }

// check returns the registry's errors, each starting with its key.
func (r *Registry) check() []error {
	var errs []error
	if _, err := parseEndpoint(r.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: %w", err))
	}
	ref := registry.Reference{Registry: "registry.invalid", Repository: r.repository(), Reference: r.Reference}
	if err := ref.ValidateRepository(); err != nil || ref.Repository == "" {
		errs = append(errs, fmt.Errorf("repository: %q is not a repository name such as library/busybox", r.Repository))
	}
	if err := ref.ValidateReference(); err != nil || r.Reference == "" {
		errs = append(errs, fmt.Errorf("reference: %q is not a tag (latest) or a digest (sha256:...)", r.Reference))
	}
	for name := range r.Headers {
		switch {
		case name == "" || strings.ContainsAny(name, " \t:\r\n"):
			errs = append(errs, fmt.Errorf("headers: %q is not a header name", name))
		case strings.EqualFold(name, "Host"):
			errs = append(errs, errors.New("headers: Host cannot be set: requests go to the endpoint's host"))
		case strings.EqualFold(name, "Authorization") && r.Auth != nil:
			errs = append(errs, errors.New("headers: Authorization and auth are both set; keep one"))
		}
	}
	for i, a := range r.ManifestAccept {
		if strings.TrimSpace(a) == "" || strings.Contains(a, ",") {
			errs = append(errs, fmt.Errorf("manifest_accept[%d]: %q is not one media type", i, a))
		}
	}
	if a := r.Auth; a != nil && (a.Username == "" || a.Password == "") {
		errs = append(errs, errors.New("auth: username and password must both be set"))
	}
	return errs
}

// parseEndpoint accepts http(s)://host[:port] with nothing after the authority but an optional "/".
func parseEndpoint(raw string) (endpoint, error) {
	s := strings.TrimSpace(raw)
	u, err := url.Parse(s)
	switch {
	case s == "":
		return endpoint{}, errors.New("must not be empty")
	case err != nil || u.Host == "":
		return endpoint{}, fmt.Errorf("%q is not scheme://host[:port] (e.g. https://registry.example.com:5000)", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return endpoint{}, fmt.Errorf("%q: the scheme must be http or https", raw)
	case u.User != nil:
		return endpoint{}, errors.New("has user information: put credentials in auth, not in the endpoint (value withheld)")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return endpoint{}, fmt.Errorf("%q: no path, query or fragment (the registry API lives at /v2/)", raw)
	}
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return endpoint{}, fmt.Errorf("%q: empty port", raw)
		}
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return endpoint{}, fmt.Errorf("%q: port must be 1-65535", raw)
	}
	return endpoint{scheme: u.Scheme, host: u.Hostname(), port: port, base: u.Scheme + "://" + u.Host}, nil
}
