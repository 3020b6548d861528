package cockroachlicensereceiver

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/secretref"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/cockroachlicensereceiver/internal/metadata"
)

// Config is the cockroachlicense receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	// APIConfig is only used to read dsn_secret.
	k8sconfig.APIConfig `mapstructure:",squash"`

	Clusters []Cluster `mapstructure:"clusters"`
	// CheckTimeout bounds one cluster's check: reading its dsn_secret, connecting and the query.
	CheckTimeout time.Duration `mapstructure:"check_timeout"`
	// MaxConcurrentChecks bounds the clusters checked at once.
	MaxConcurrentChecks int `mapstructure:"max_concurrent_checks"`
}

// Cluster is one CockroachDB cluster; exactly one of DSN and DSNSecret says how to connect.
type Cluster struct {
	// Name is the cluster attribute.
	Name string `mapstructure:"name"`
	// DSN is a PostgreSQL connection string (URL or key=value) with the cluster's TLS settings.
	DSN configopaque.String `mapstructure:"dsn"`
	// DSNSecret names a Secret key that holds the connection string.
	DSNSecret *secretref.Ref `mapstructure:"dsn_secret"`
}

// errUnparsableDSN never carries the DSN: pgx's own parse error quotes it. Parsing also reads the
// files the DSN names (sslrootcert, sslcert, sslkey, passfile).
var errUnparsableDSN = errors.New("not a valid PostgreSQL connection string (URL or key=value), or a file it names cannot be read (value withheld)")

// Validate reports every bad setting, naming its key.
func (c *Config) Validate() error {
	errs := c.APIConfig.Check()
	if c.CheckTimeout <= 0 {
		errs = append(errs, fmt.Errorf("check_timeout: must be positive, got %s", c.CheckTimeout))
	}
	if c.MaxConcurrentChecks < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent_checks: must be at least 1, got %d", c.MaxConcurrentChecks))
	}
	if len(c.Clusters) == 0 {
		errs = append(errs, errors.New("clusters: at least one cluster is required"))
	}
	seen := map[string]int{}
	for i, cl := range c.Clusters {
		path := fmt.Sprintf("clusters[%d]", i)
		if cl.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: must be set", path))
		} else if j, dup := seen[cl.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is already the name of clusters[%d]", path, cl.Name, j))
		} else {
			seen[cl.Name] = i
		}
		switch {
		case (cl.DSN == "") == (cl.DSNSecret == nil):
			errs = append(errs, fmt.Errorf("%s: set exactly one of dsn and dsn_secret", path))
		case cl.DSN != "":
			if _, err := pgx.ParseConfig(string(cl.DSN)); err != nil {
				errs = append(errs, fmt.Errorf("%s.dsn: %w", path, errUnparsableDSN))
			}
		default:
			errs = append(errs, cl.DSNSecret.Check(path+".dsn_secret")...)
		}
	}
	return statereceiver.Validate(&c.Config, errs...)
}

// usesSecrets says whether any cluster reads its DSN from a Secret (and so needs the API server).
func (c *Config) usesSecrets() bool {
	for _, cl := range c.Clusters {
		if cl.DSNSecret != nil {
			return true
		}
	}
	return false
}
