package statusextension

import (
	"errors"

	"go.opentelemetry.io/collector/config/confighttp"
)

// Config is the status extension's configuration: an HTTP server (endpoint, tls, ...).
type Config struct {
	confighttp.ServerConfig `mapstructure:",squash"`
}

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	if c.NetAddr.Endpoint == "" {
		return errors.New("endpoint: must not be empty")
	}
	return nil
}
