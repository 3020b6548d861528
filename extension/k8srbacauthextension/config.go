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
	// Timeout bounds the TokenReview plus SubjectAccessReview of one request, the wait for a
	// review slot included.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxConcurrentReviews bounds the reviews of tokens without a cached answer in flight; more
	// wait for a slot (within timeout). Renewals of allowed answers do not take a slot.
	MaxConcurrentReviews int `mapstructure:"max_concurrent_reviews"`
	// JWTOnly refuses, without a TokenReview, bearer tokens not shaped like a JWT. Turn it off
	// for opaque tokens (static token files, webhook authenticators that issue opaque tokens).
	JWTOnly bool `mapstructure:"jwt_only"`
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

		MaxConcurrentReviews: 4,
		JWTOnly:              true,
	}
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	errs := c.Check()
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
	if c.MaxConcurrentReviews < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent_reviews: must be at least 1, got %d", c.MaxConcurrentReviews))
	}
	return errors.Join(errs...)
}
