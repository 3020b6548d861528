package lvmreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/configtest"
)

func TestConfigDefaultsFromEnvironment(t *testing.T) {
	t.Setenv("K8S_NODE_NAME", "")
	t.Setenv("NODE_NAME", "from-downward-api")
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "from-downward-api", cfg.NodeName)
	assert.Equal(t, "vgs", cfg.VGSPath)
	assert.Equal(t, "lvs", cfg.LVSPath)
	assert.Equal(t, 10*time.Second, cfg.CommandTimeout)
	assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
	assert.Nil(t, cfg.K8sLeaderElector, "a DaemonSet receiver: no elector by default")
	require.NoError(t, cfg.Validate())

	t.Setenv("NODE_NAME", "")
	cfg = createDefaultConfig().(*Config)
	assert.ErrorContains(t, cfg.Validate(), "node_name: empty and neither K8S_NODE_NAME nor NODE_NAME is set")
}

func TestConfigLoad(t *testing.T) {
	t.Setenv("K8S_NODE_NAME", "")
	t.Setenv("NODE_NAME", "")
	cfg := configtest.Load[*Config](t, NewFactory(), "")
	assert.Equal(t, "worker-1", cfg.NodeName)
	require.NoError(t, cfg.Validate())

	custom := configtest.Load[*Config](t, NewFactory(), "custom")
	require.NoError(t, custom.Validate())
	assert.Equal(t, time.Minute, custom.CollectionInterval)
	assert.Equal(t, "/usr/sbin/vgs", custom.VGSPath)
	assert.Equal(t, "/usr/sbin/lvs", custom.LVSPath)
	assert.Equal(t, []string{"nsenter", "--target", "1", "--mount", "--"}, custom.CommandPrefix)
	assert.Equal(t, 3*time.Second, custom.CommandTimeout)

	hostRoot := configtest.Load[*Config](t, NewFactory(), "hostroot")
	require.NoError(t, hostRoot.Validate())
	assert.Equal(t, "/host", hostRoot.HostRoot)
}

func TestConfigValidateNamesEveryBadKey(t *testing.T) {
	t.Setenv("K8S_NODE_NAME", "")
	t.Setenv("NODE_NAME", "")
	err := configtest.Load[*Config](t, NewFactory(), "bad").Validate()
	require.Error(t, err)
	for _, want := range []string{
		"collection_interval: must be positive",
		"node_name: empty",
		"vgs_path: must not be empty",
		"lvs_path: must not be empty",
		`host_root: must be an absolute path, got "host"`,
		"host_root and command_prefix: set one of them",
		"command_prefix[1]: must not be empty",
		"command_timeout: must be positive",
	} {
		assert.ErrorContains(t, err, want)
	}
}
