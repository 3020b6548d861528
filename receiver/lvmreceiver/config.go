package lvmreceiver

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/labring/otelcol-sealos/internal/hostnode"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/lvmreceiver/internal/metadata"
)

// Config is the lvm receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`

	// NodeName is the node label of every series; default $K8S_NODE_NAME, else $NODE_NAME.
	NodeName string `mapstructure:"node_name"`
	// VGSPath and LVSPath are the LVM tools; a bare name is looked up in PATH (under host_root
	// when that is set).
	VGSPath string `mapstructure:"vgs_path"`
	LVSPath string `mapstructure:"lvs_path"`
	// HostRoot, when set, runs the tools chrooted into it: the host's own binaries, libraries,
	// /etc/lvm and /dev, from a container that mounts the host's / there.
	HostRoot string `mapstructure:"host_root"`
	// CommandPrefix runs the tools through another command, e.g. nsenter into the host's mount
	// namespace: [nsenter, --target, "1", --mount, --].
	CommandPrefix []string `mapstructure:"command_prefix"`
	// CommandTimeout bounds one run of vgs or lvs; a run that takes longer is killed.
	CommandTimeout time.Duration `mapstructure:"command_timeout"`
}

// Validate reports every bad setting, naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := hostnode.CheckName(c.NodeName); err != nil {
		errs = append(errs, err)
	}
	if c.VGSPath == "" {
		errs = append(errs, errors.New("vgs_path: must not be empty (default vgs)"))
	}
	if c.LVSPath == "" {
		errs = append(errs, errors.New("lvs_path: must not be empty (default lvs)"))
	}
	if c.HostRoot != "" && !filepath.IsAbs(c.HostRoot) {
		errs = append(errs, fmt.Errorf("host_root: must be an absolute path, got %q", c.HostRoot))
	}
	if c.HostRoot != "" && len(c.CommandPrefix) > 0 {
		errs = append(errs, errors.New("host_root and command_prefix: set one of them (chroot into the host's files, or run through a command such as nsenter)"))
	}
	for i, arg := range c.CommandPrefix {
		if arg == "" {
			errs = append(errs, fmt.Errorf("command_prefix[%d]: must not be empty", i))
		}
	}
	if c.CommandTimeout <= 0 {
		errs = append(errs, fmt.Errorf("command_timeout: must be positive, got %s", c.CommandTimeout))
	}
	return statereceiver.Validate(&c.Config, errs...)
}
