package k8srbacauthextension

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
)

// Config is the k8s_rbac_auth extension's configuration.
type Config struct {
	// APIConfig says how the extension itself reaches the API server; its identity needs
	// `create` on tokenreviews and subjectaccessreviews.
	k8sconfig.APIConfig `mapstructure:",squash"`

	// Path is the non-resource URL checked when the extension runs as a confighttp `auth:`
	// authenticator, which is given the request headers only. As a middleware the extension
	// checks the request's own path and ignores this.
	Path string `mapstructure:"path"`
	// Verb is the verb the SubjectAccessReview asks about (RBAC nonResourceURLs rules).
	Verb string `mapstructure:"verb"`
	// Audiences, when set, are the audiences the TokenReview requires the token to carry.
	Audiences []string `mapstructure:"audiences"`
	// AllowedTTL is how long an allowed token+path is remembered.
	AllowedTTL time.Duration `mapstructure:"allowed_ttl"`
	// DeniedTTL is how long a rejected (401) or forbidden (403) token+path is remembered:
	// shorter, so a newly granted ClusterRoleBinding takes effect quickly.
	DeniedTTL time.Duration `mapstructure:"denied_ttl"`
	// CacheSize bounds the remembered decisions; the oldest is dropped when full. 0 disables caching.
	CacheSize int `mapstructure:"cache_size"`
	// Timeout bounds the TokenReview plus SubjectAccessReview of one request.
	Timeout time.Duration `mapstructure:"timeout"`
}

func createDefaultConfig() *Config {
	return &Config{
		APIConfig:  k8sconfig.NewDefaultAPIConfig(),
		Path:       "/metrics",
		Verb:       "get",
		AllowedTTL: time.Minute,
		DeniedTTL:  10 * time.Second,
		CacheSize:  1024,
		Timeout:    5 * time.Second,
	}
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	errs := c.APIConfig.Check()
	if !strings.HasPrefix(c.Path, "/") {
		errs = append(errs, fmt.Errorf("path: must start with /, got %q", c.Path))
	}
	if c.Verb == "" {
		errs = append(errs, errors.New("verb: must not be empty"))
	}
	if c.AllowedTTL < 0 {
		errs = append(errs, fmt.Errorf("allowed_ttl: must not be negative, got %s", c.AllowedTTL))
	}
	if c.DeniedTTL < 0 {
		errs = append(errs, fmt.Errorf("denied_ttl: must not be negative, got %s", c.DeniedTTL))
	}
	if c.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("cache_size: must not be negative, got %d", c.CacheSize))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: must be positive, got %s", c.Timeout))
	}
	return errors.Join(errs...)
}
