// Package configtest loads a component's settings from its testdata/config.yaml the way the
// collector decodes them.
package configtest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// Load decodes the section `<type>[/name]` of testdata/config.yaml over factory's defaults.
func Load[C component.Config](t *testing.T, factory component.Factory, name string) C {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(factory.Type(), name).String())
	require.NoError(t, err)
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(C)
}
