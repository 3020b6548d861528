package configreloadreceiver

import (
	"fmt"
	"time"

	"github.com/labring/otelcol-sealos/receiver/configreloadreceiver/internal/metadata"
)

// Config is the config_reload receiver's configuration. Its interval is a key of its own, not
// an embedded scraperhelper.ControllerConfig: that struct validates itself too, so a bad interval
// would be reported twice.
type Config struct {
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	// CollectionInterval is how often the two series are emitted.
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	if c.CollectionInterval <= 0 {
		return fmt.Errorf("collection_interval: must be positive, got %s", c.CollectionInterval)
	}
	return nil
}
