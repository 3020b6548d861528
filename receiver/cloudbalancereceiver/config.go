package cloudbalancereceiver

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
)

// Config is the cloudbalance receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	// APIConfig is only used to read credentials_secret (and by nothing else).
	k8sconfig.APIConfig `mapstructure:",squash"`

	// QueryTimeout bounds one account's query: reading its credentials, every attempt and the
	// waits between them.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// MaxConcurrentQueries bounds how many accounts are queried at once.
	MaxConcurrentQueries int `mapstructure:"max_concurrent_queries"`
	// ThrottleRetries is how many times a throttled query is tried again (within query_timeout).
	ThrottleRetries int `mapstructure:"throttle_retries"`
	// ThrottleBackoff is the wait before the first retry; it doubles for each further one.
	ThrottleBackoff time.Duration `mapstructure:"throttle_backoff"`

	Accounts []Account `mapstructure:"accounts"`
}

// Account is one cloud account whose balance is read.
type Account struct {
	// Provider is alicloud, tencentcloud or volcengine.
	Provider string `mapstructure:"provider"`
	// AccountID is the account_id label; it is never sent to the provider.
	AccountID string `mapstructure:"account_id"`
	// Region is the region the request is signed for (a default per provider when empty).
	Region string `mapstructure:"region"`
	// Endpoint replaces the provider's API host (host or host:port; always HTTPS).
	Endpoint string `mapstructure:"endpoint"`
	// TLS configures the HTTPS client (a private CA for a private endpoint, for example).
	TLS configtls.ClientConfig `mapstructure:"tls"`

	// Exactly one credential source: inline, environment variables, or a Kubernetes Secret.
	AccessKeyID        configopaque.String `mapstructure:"access_key_id"`
	AccessKeySecret    configopaque.String `mapstructure:"access_key_secret"`
	AccessKeyIDEnv     string              `mapstructure:"access_key_id_env"`
	AccessKeySecretEnv string              `mapstructure:"access_key_secret_env"`
	CredentialsSecret  *SecretRef          `mapstructure:"credentials_secret"`
}

// SecretRef names the Kubernetes Secret holding an account's access key pair.
type SecretRef struct {
	Namespace string `mapstructure:"namespace"`
	Name      string `mapstructure:"name"`
	// AccessKeyIDKey and AccessKeySecretKey are the data keys (defaults access_key_id and
	// access_key_secret).
	AccessKeyIDKey     string `mapstructure:"access_key_id_key"`
	AccessKeySecretKey string `mapstructure:"access_key_secret_key"`
}

const (
	defaultSecretIDKey     = "access_key_id"
	defaultSecretSecretKey = "access_key_secret"
)

func (r *SecretRef) idKey() string { return orDefault(r.AccessKeyIDKey, defaultSecretIDKey) }
func (r *SecretRef) secretKey() string {
	return orDefault(r.AccessKeySecretKey, defaultSecretSecretKey)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// usesSecrets reports whether any account reads a Kubernetes Secret.
func (c *Config) usesSecrets() bool {
	for i := range c.Accounts {
		if c.Accounts[i].CredentialsSecret != nil {
			return true
		}
	}
	return false
}

// Validate reports every bad setting, naming its key.
func (c *Config) Validate() error {
	var errs []error
	if c.usesSecrets() {
		errs = append(errs, c.APIConfig.Check()...)
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("query_timeout: must be positive, got %s", c.QueryTimeout))
	}
	if c.MaxConcurrentQueries < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent_queries: must be at least 1, got %d", c.MaxConcurrentQueries))
	}
	if c.ThrottleRetries < 0 {
		errs = append(errs, fmt.Errorf("throttle_retries: must not be negative, got %d (0 disables retries)", c.ThrottleRetries))
	}
	if c.ThrottleRetries > 0 && c.ThrottleBackoff <= 0 {
		errs = append(errs, fmt.Errorf("throttle_backoff: must be positive when throttle_retries is set, got %s", c.ThrottleBackoff))
	}
	errs = append(errs, c.validateAccounts()...)
	return statereceiver.Validate(&c.Config, errs...)
}

type accountKey struct{ provider, accountID string }

func (c *Config) validateAccounts() []error {
	if len(c.Accounts) == 0 {
		return []error{errors.New("accounts: at least one account must be configured")}
	}
	var errs []error
	seen := map[accountKey]int{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		path := fmt.Sprintf("accounts[%d]", i)
		if _, ok := providers[a.Provider]; !ok {
			errs = append(errs, fmt.Errorf("%s.provider: %q is not one of %s", path, a.Provider, strings.Join(providerNames(), ", ")))
		}
		if a.AccountID == "" {
			errs = append(errs, fmt.Errorf("%s.account_id: must be set (it is the account_id label)", path))
		}
		if err := checkEndpoint(a.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("%s.endpoint: %w", path, err))
		}
		errs = append(errs, checkCredentialSource(path, a)...)
		// Two entries for one account would emit the same series twice (the predecessor's scrape
		// then failed as a whole): reject, naming both.
		if a.AccountID == "" {
			continue
		}
		k := accountKey{a.Provider, a.AccountID}
		if first, dup := seen[k]; dup {
			errs = append(errs, fmt.Errorf("%s: provider %s account_id %q is already configured by accounts[%d]; give each account one entry", path, a.Provider, a.AccountID, first))
			continue
		}
		seen[k] = i
	}
	return errs
}

// checkEndpoint accepts a host or host:port: the SDKs add the scheme (always HTTPS) themselves.
func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	if strings.Contains(endpoint, "://") || strings.ContainsAny(endpoint, "/?#@ ") {
		return fmt.Errorf("%q must be a host or host:port (HTTPS is always used), e.g. business.aliyuncs.com or 10.0.0.5:8443", endpoint)
	}
	if strings.Contains(endpoint, ":") {
		if _, port, err := net.SplitHostPort(endpoint); err != nil || port == "" {
			return fmt.Errorf("%q must be a host or host:port", endpoint)
		}
	}
	return nil
}

func checkCredentialSource(path string, a *Account) []error {
	inline := a.AccessKeyID != "" || a.AccessKeySecret != ""
	env := a.AccessKeyIDEnv != "" || a.AccessKeySecretEnv != ""
	secret := a.CredentialsSecret != nil
	set := 0
	for _, given := range []bool{inline, env, secret} {
		if given {
			set++
		}
	}
	if set != 1 {
		return []error{fmt.Errorf("%s: set exactly one credential source (access_key_id + access_key_secret, access_key_id_env + access_key_secret_env, or credentials_secret), got %d", path, set)}
	}
	var errs []error
	switch {
	case inline && (a.AccessKeyID == "" || a.AccessKeySecret == ""):
		errs = append(errs, fmt.Errorf("%s: access_key_id and access_key_secret must both be set", path))
	case env && (a.AccessKeyIDEnv == "" || a.AccessKeySecretEnv == ""):
		errs = append(errs, fmt.Errorf("%s: access_key_id_env and access_key_secret_env must both be set", path))
	case secret:
		ref := a.CredentialsSecret
		if ref.Namespace == "" {
			errs = append(errs, fmt.Errorf("%s.credentials_secret.namespace: must be set", path))
		}
		if ref.Name == "" {
			errs = append(errs, fmt.Errorf("%s.credentials_secret.name: must be set", path))
		}
		if ref.idKey() == ref.secretKey() {
			errs = append(errs, fmt.Errorf("%s.credentials_secret: access_key_id_key and access_key_secret_key must differ, both are %q", path, ref.idKey()))
		}
	}
	return errs
}
