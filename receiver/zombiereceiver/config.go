package zombiereceiver

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/labring/otelcol-sealos/internal/hostnode"
	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/zombiereceiver/internal/metadata"
)

// Config is the zombie receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	// auth_type none means no API server at all: zombies are labelled by container ID only.
	k8sconfig.APIConfig `mapstructure:",squash"`

	// NodeName is the node label of every series and selects the node's pods; default
	// $K8S_NODE_NAME, else $NODE_NAME.
	NodeName string `mapstructure:"node_name"`
	// HostRoot is where the host's filesystem is mounted; <host_root>/proc is scanned. Empty: /.
	HostRoot string `mapstructure:"host_root"`
	// ParentCommand adds the parent's command name (comm) to every series.
	ParentCommand bool `mapstructure:"parent_command"`
	// SyncTimeout bounds how long a cycle waits for the first list of the node's pods.
	SyncTimeout time.Duration `mapstructure:"sync_timeout"`
}

// Validate reports every bad setting, naming its key.
func (c *Config) Validate() error {
	errs := c.APIConfig.Check()
	if err := hostnode.CheckName(c.NodeName); err != nil {
		errs = append(errs, err)
	}
	if c.HostRoot != "" && !filepath.IsAbs(c.HostRoot) {
		errs = append(errs, fmt.Errorf("host_root: must be an absolute path, got %q", c.HostRoot))
	}
	if c.SyncTimeout <= 0 {
		errs = append(errs, fmt.Errorf("sync_timeout: must be positive, got %s", c.SyncTimeout))
	}
	return statereceiver.Validate(&c.Config, errs...)
}

// procPath is the proc file system the receiver scans.
func (c *Config) procPath() string {
	return filepath.Join("/", c.HostRoot, "proc")
}

// usesAPI says whether pods are looked up; auth_type none scans the host alone.
func (c *Config) usesAPI() bool {
	return c.AuthType != k8sconfig.AuthTypeNone
}
