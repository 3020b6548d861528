package nodereceiver

import (
	"fmt"
	"time"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/nodereceiver/internal/metadata"
)

// Config is the node receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	k8sconfig.APIConfig           `mapstructure:",squash"`

	// IgnoreNewNodeDuration skips nodes younger than this (they are still joining); 0 disables.
	IgnoreNewNodeDuration time.Duration `mapstructure:"ignore_new_node_duration"`
	// ReportAllConditions reports every condition of every node instead of only the abnormal
	// conditions of unhealthy nodes.
	ReportAllConditions bool `mapstructure:"report_all_conditions"`
	// SyncTimeout bounds how long a cycle waits for the first full list of nodes.
	SyncTimeout time.Duration `mapstructure:"sync_timeout"`
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	errs := c.APIConfig.Check()
	if c.IgnoreNewNodeDuration < 0 {
		errs = append(errs, fmt.Errorf("ignore_new_node_duration: must not be negative, got %s", c.IgnoreNewNodeDuration))
	}
	if c.SyncTimeout <= 0 {
		errs = append(errs, fmt.Errorf("sync_timeout: must be positive, got %s", c.SyncTimeout))
	}
	return statereceiver.Validate(&c.Config, errs...)
}
