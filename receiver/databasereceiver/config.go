package databasereceiver

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/databasereceiver/internal/metadata"
)

// Engines the receiver can check: the values of the type attribute.
const (
	engineMySQL      = "mysql"
	enginePostgreSQL = "postgresql"
	engineMongoDB    = "mongodb"
	engineRedis      = "redis"
)

var engines = []string{engineMongoDB, engineMySQL, enginePostgreSQL, engineRedis}

// Config is the database receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	k8sconfig.APIConfig           `mapstructure:",squash"`

	// Discover finds databases through KubeBlocks Secrets; false checks only Targets (no API access).
	Discover bool `mapstructure:"discover"`
	// Namespaces limits discovery to these namespaces; empty means every namespace.
	Namespaces []string `mapstructure:"namespaces"`
	// Accounts maps a KubeBlocks 1.x component name (label apps.kubeblocks.io/component-name) to
	// its engine and the system account whose Secret the check logs in with.
	Accounts map[string]AccountConfig `mapstructure:"accounts"`
	// TLS settings for discovered databases whose Secret has data key tls=true (default: verify
	// against the system roots).
	TLS *configtls.ClientConfig `mapstructure:"tls"`
	// Preflight checks, before dialling, that the database's Service exists and has ready endpoints.
	Preflight bool `mapstructure:"preflight"`
	// SyncTimeout bounds how long a cycle waits for the first full list of Secrets.
	SyncTimeout time.Duration `mapstructure:"sync_timeout"`

	// CheckTimeout bounds one database's check (dial, authenticate, ping, close). `timeout` bounds
	// the whole cycle.
	CheckTimeout time.Duration `mapstructure:"check_timeout"`
	// Concurrency is the number of checks running at once per engine.
	Concurrency ConcurrencyConfig `mapstructure:"concurrency"`

	// Targets are databases outside KubeBlocks, checked every cycle.
	Targets []TargetConfig `mapstructure:"targets"`
}

// AccountConfig says which engine a KubeBlocks component runs and which account to log in with.
type AccountConfig struct {
	Engine  string `mapstructure:"engine"`
	Account string `mapstructure:"account"`
}

// ConcurrencyConfig limits concurrent checks per engine.
type ConcurrencyConfig struct {
	MySQL      int `mapstructure:"mysql"`
	PostgreSQL int `mapstructure:"postgresql"`
	MongoDB    int `mapstructure:"mongodb"`
	Redis      int `mapstructure:"redis"`
}

func (c ConcurrencyConfig) of(engine string) int {
	switch engine {
	case engineMySQL:
		return c.MySQL
	case enginePostgreSQL:
		return c.PostgreSQL
	case engineMongoDB:
		return c.MongoDB
	default:
		return c.Redis
	}
}

// TargetConfig is one configured database. Put the password in the environment:
// `password: ${env:ORDERS_DB_PASSWORD}`.
type TargetConfig struct {
	// Name is the database attribute.
	Name string `mapstructure:"name"`
	// Namespace is the namespace attribute (optional).
	Namespace string              `mapstructure:"namespace"`
	Engine    string              `mapstructure:"engine"`
	Endpoint  string              `mapstructure:"endpoint"` // host:port
	Username  string              `mapstructure:"username"`
	Password  configopaque.String `mapstructure:"password"`
	// Database to connect to (PostgreSQL default postgres; MySQL none; MongoDB auth source admin; Redis DB number, default 0).
	Database string `mapstructure:"database"`
	// TLS, when set, connects with TLS (`tls: {}` verifies against the system roots; ca_file,
	// insecure_skip_verify, server_name_override as in every collector TLS block). Unset: plaintext.
	TLS *configtls.ClientConfig `mapstructure:"tls"`
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	var errs []error
	if c.Discover {
		errs = append(errs, c.APIConfig.Check()...)
	}
	if c.CheckTimeout <= 0 {
		errs = append(errs, fmt.Errorf("check_timeout: must be positive, got %s", c.CheckTimeout))
	}
	if c.SyncTimeout <= 0 {
		errs = append(errs, fmt.Errorf("sync_timeout: must be positive, got %s", c.SyncTimeout))
	}
	for _, e := range engines {
		if n := c.Concurrency.of(e); n <= 0 {
			errs = append(errs, fmt.Errorf("concurrency.%s: must be positive, got %d", e, n))
		}
	}
	if !c.Discover && len(c.Targets) == 0 {
		errs = append(errs, errors.New("targets: must not be empty when discover is false (nothing to check)"))
	}
	for comp, a := range c.Accounts {
		if !slices.Contains(engines, a.Engine) {
			errs = append(errs, fmt.Errorf("accounts.%s.engine: %q is not one of %v", comp, a.Engine, engines))
		}
		if a.Account == "" {
			errs = append(errs, fmt.Errorf("accounts.%s.account: must not be empty", comp))
		}
	}
	for i, ns := range c.Namespaces {
		if ns == "" {
			errs = append(errs, fmt.Errorf("namespaces[%d]: must not be empty", i))
		}
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		errs = append(errs, t.check(i)...)
		key := t.Namespace + "/" + t.Name + "/" + t.Engine
		if seen[key] {
			errs = append(errs, fmt.Errorf("targets[%d]: duplicate name %q for engine %q in namespace %q", i, t.Name, t.Engine, t.Namespace))
		}
		seen[key] = true
	}
	return statereceiver.Validate(&c.Config, errs...)
}

// check validates targets[i]; it is not called Validate so that the config walker does not
// report its errors a second time.
func (t TargetConfig) check(i int) []error {
	var errs []error
	if t.Name == "" {
		errs = append(errs, fmt.Errorf("targets[%d].name: must not be empty", i))
	}
	if !slices.Contains(engines, t.Engine) {
		errs = append(errs, fmt.Errorf("targets[%d].engine: %q is not one of %v", i, t.Engine, engines))
	}
	if _, port, err := net.SplitHostPort(t.Endpoint); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("targets[%d].endpoint: want host:port, got %q", i, t.Endpoint))
	}
	return errs
}
