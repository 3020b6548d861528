package configreloadreceiver

import (
	"fmt"

	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/labring/otelcol-sealos/receiver/configreloadreceiver/internal/metadata"
)

// Config is the config_reload receiver's configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	metadata.MetricsBuilderConfig  `mapstructure:",squash"`
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	if c.CollectionInterval <= 0 {
		return fmt.Errorf("collection_interval: must be positive, got %s", c.CollectionInterval)
	}
	return nil
}
