package leaderelectionextension

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component"
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

	assert.Equal(t, defaultIdentity(), defaultIdentity(), "stable for the life of the process (reloads included)")
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
