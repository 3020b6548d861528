package userbalancereceiver

import (
	"errors"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/userbalancereceiver/internal/metadata"
)

// Config is the userbalance receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	// APIConfig is only used to read dsn_secret (and by nothing else).
	k8sconfig.APIConfig `mapstructure:",squash"`

	// Exactly one of DSN, DSNEnv and DSNSecret says where the PostgreSQL connection string is.
	DSN       configopaque.String `mapstructure:"dsn"`
	DSNEnv    string              `mapstructure:"dsn_env"`
	DSNSecret *SecretRef          `mapstructure:"dsn_secret"`

	// QueryTimeout bounds connecting and the balance query, each, and a dsn_secret read.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`

	Users []User `mapstructure:"users"`
}

// SecretRef names one key of a Kubernetes Secret.
type SecretRef struct {
	Namespace string `mapstructure:"namespace"`
	Name      string `mapstructure:"name"`
	Key       string `mapstructure:"key"`
}

// User is one configured user; every field but Quota becomes a label.
type User struct {
	Region string `mapstructure:"region"`
	UUID   string `mapstructure:"uuid"`
	// UID is matched against the "User".id column (as the predecessor did).
	UID   string `mapstructure:"uid"`
	Owner string `mapstructure:"owner"`
	Type  string `mapstructure:"type"`
	Level string `mapstructure:"level"`
	// Quota, when set, is emitted as userbalance.quota.
	Quota *float64 `mapstructure:"quota"`
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	var errs []error
	if c.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("query_timeout: must be positive, got %s", c.QueryTimeout))
	}
	errs = append(errs, c.validateDSNSource()...)
	errs = append(errs, c.validateUsers()...)
	if c.DSNSecret != nil {
		errs = append(errs, c.APIConfig.Check()...)
	}
	return statereceiver.Validate(&c.Config, errs...)
}

func (c *Config) validateDSNSource() []error {
	set := 0
	for _, given := range []bool{c.DSN != "", c.DSNEnv != "", c.DSNSecret != nil} {
		if given {
			set++
		}
	}
	if set != 1 {
		return []error{fmt.Errorf("dsn, dsn_env, dsn_secret: set exactly one, got %d", set)}
	}
	var errs []error
	if c.DSN != "" {
		if err := checkDSN(string(c.DSN)); err != nil {
			errs = append(errs, fmt.Errorf("dsn: %w", err))
		}
	}
	if s := c.DSNSecret; s != nil {
		for key, v := range map[string]string{"namespace": s.Namespace, "name": s.Name, "key": s.Key} {
			if v == "" {
				errs = append(errs, fmt.Errorf("dsn_secret.%s: must be set", key))
			}
		}
	}
	return errs
}

func (c *Config) validateUsers() []error {
	if len(c.Users) == 0 {
		return []error{errors.New("users: at least one user must be configured")}
	}
	var errs []error
	seen := map[userKey]int{}
	for i, u := range c.Users {
		if u.UID == "" {
			errs = append(errs, fmt.Errorf("users[%d].uid: must be set", i))
			continue
		}
		if u.Quota != nil && (math.IsNaN(*u.Quota) || math.IsInf(*u.Quota, 0)) {
			errs = append(errs, fmt.Errorf("users[%d].quota: must be a finite number", i))
		}
		// Two entries with one region and uid read one row and would emit the same series (or two
		// series differing only in free-form labels for the same balance): reject, naming both.
		k := userKey{region: u.Region, uid: u.UID}
		if first, dup := seen[k]; dup {
			errs = append(errs, fmt.Errorf("users[%d]: uid %q in region %q is already configured by users[%d]", i, u.UID, u.Region, first))
			continue
		}
		seen[k] = i
	}
	return errs
}

type userKey struct{ region, uid string }
