package databasereceiver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"go.opentelemetry.io/collector/config/configtls"
)

// tlsConfigs is the TLS configuration of discovered databases, loaded once at start.
type tlsConfigs struct{ discovered *tls.Config }

func loadTLS(ctx context.Context, cfg *Config) (*tlsConfigs, error) {
	c := configtls.ClientConfig{}
	if cfg.TLS != nil {
		c = *cfg.TLS
	}
	c.Insecure = false // asked for by the Secret: always TLS
	tc, err := c.LoadTLSConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tlsConfigs{discovered: tc}, nil
}

// forTarget is nil for plaintext; a copy naming the target's host otherwise.
func (c *tlsConfigs) forTarget(t target) (*tls.Config, error) {
	if !t.tls {
		return nil, nil
	}
	if t.tlsConfig != nil {
		return t.tlsConfig, nil
	}
	tc := c.discovered.Clone()
	if tc.ServerName == "" {
		tc.ServerName = t.host
	}
	return tc, nil
}

func splitEndpoint(endpoint string) (string, int, error) {
	host, p, err := net.SplitHostPort(endpoint)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port, got %q", endpoint)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("port of %q is not a number in 1-65535", endpoint)
	}
	return host, port, nil
}
