package statereceiver

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config is the settings every otelcol-sealos receiver shares. Receivers embed it with
// `mapstructure:",squash"` and call Check from their own Validate: it has no Validate method of
// its own, so the collector's config walker cannot report its errors a second time, under the
// embedded field's name.
type Config struct {
	// CollectionInterval is the time between the starts of two cycles.
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
	// InitialDelay holds back the first cycle after start (a sync that completes earlier waits
	// for it); 0 collects as soon as the state is known.
	InitialDelay time.Duration `mapstructure:"initial_delay"`
	// Timeout bounds one cycle (0: no bound; the receiver's own per-check timeouts apply).
	Timeout time.Duration `mapstructure:"timeout"`
	// K8sLeaderElector names a leader-elector extension; only the lease holder collects and emits.
	K8sLeaderElector *component.ID `mapstructure:"k8s_leader_elector"`
}

// NewDefaultConfig returns the shared defaults with the receiver's own collection interval.
func NewDefaultConfig(interval time.Duration) Config {
	return Config{CollectionInterval: interval, InitialDelay: time.Second}
}

// Check reports every bad shared setting, naming its key.
func (c *Config) Check() []error {
	var errs []error
	if c.CollectionInterval <= 0 {
		errs = append(errs, fmt.Errorf("collection_interval: must be positive, got %s", c.CollectionInterval))
	}
	if c.InitialDelay < 0 {
		errs = append(errs, fmt.Errorf("initial_delay: must not be negative, got %s", c.InitialDelay))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: must not be negative, got %s (0 means no bound)", c.Timeout))
	}
	return errs
}

// Validate joins the shared settings' errors with a receiver's own, in that order: what a
// receiver's Validate returns.
func Validate(shared *Config, own ...error) error {
	return errors.Join(append(shared.Check(), own...)...)
}
