package leaderelectionextension

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/labring/otelcol-sealos/extension/leaderelectionextension/internal/metadata"
)

func TestProcessIdentity(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	host := func(name string, err error) func() (string, error) {
		return func() (string, error) { return name, err }
	}
	assert.Equal(t, "collector-7d9f-abcde", processIdentity(env(map[string]string{"POD_NAME": "collector-7d9f-abcde"}), host("node-1", nil), 42),
		"the pod name is unique among live pods: no suffix")
	assert.Equal(t, "node-1_42", processIdentity(env(nil), host("node-1", nil), 42),
		"without a pod name, the pid tells two processes on one host apart")
	assert.Equal(t, "unknown-host_42", processIdentity(env(nil), host("", errors.New("no hostname")), 42))
	assert.NotEqual(t, processIdentity(env(nil), host("node-1", nil), 42), processIdentity(env(nil), host("node-1", nil), 43))
}

// A reload builds the extension again through the factory: the new instance must campaign under
// the identity of the old one (the process's), or it would wait out its own lease.
func TestFactoryIdentityIsTheProcessIdentity(t *testing.T) {
	created := func() string {
		t.Helper()
		ext, err := NewFactory().Create(t.Context(), extensiontest.NewNopSettings(metadata.Type), createDefaultConfig())
		require.NoError(t, err)
		return ext.(*elector).Identity()
	}
	hostname, err := os.Hostname()
	require.NoError(t, err)
	t.Setenv("POD_NAME", "")
	first := created()
	assert.Equal(t, fmt.Sprintf("%s_%d", hostname, os.Getpid()), first)
	assert.Equal(t, first, created(), "an instance built by a reload has another identity")

	t.Setenv("POD_NAME", "collector-0")
	assert.Equal(t, "collector-0", created())
}

func TestDefaultLeaseName(t *testing.T) {
	typ := component.MustNewType("leader_election")
	for name, want := range map[string]string{
		"":              "otelcol-sealos",
		"cluster":       "otelcol-sealos-cluster",
		"Domain_Checks": "otelcol-sealos-domain-checks",
		"a.b":           "otelcol-sealos-a.b",
		"__":            "otelcol-sealos",
	} {
		assert.Equal(t, want, defaultLeaseName(component.NewIDWithName(typ, name)), "name %q", name)
	}
}
