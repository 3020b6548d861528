package crdsreceiver

import (
	"github.com/labring/otelcol-sealos/test/configtest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/xconfmap"
)

func loadConfig(t *testing.T, name string) *Config {
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfigDefaultsAndEmptyList(t *testing.T) {
	for _, name := range []string{"", "empty"} {
		cfg := loadConfig(t, name)
		require.NoError(t, xconfmap.Validate(cfg))
		assert.Empty(t, cfg.CRDs)
		assert.Empty(t, cfg.MetricPrefix)
		assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
	}
}

func TestLoadPredecessorConfig(t *testing.T) {
	cfg := loadConfig(t, "predecessor")
	require.NoError(t, xconfmap.Validate(cfg))
	require.Len(t, cfg.CRDs, 2)
	assert.Equal(t, 10*time.Minute, cfg.CRDs[0].ResyncPeriod)
	assert.Equal(t, GVRConfig{Group: "apps.kubeblocks.io", Version: "v1alpha1", Resource: "clusters"}, cfg.CRDs[0].GVR)
	specs, err := compile(cfg)
	require.NoError(t, err)
	// The predecessor's default label names.
	labels := func(r, m int) []string { return specs[r].families[m].labels }
	assert.Equal(t, []string{"name", "namespace"}, specs[0].commonLabels)
	assert.Equal(t, []string{"cluster_def", "cluster_version"}, labels(0, 0))
	assert.Equal(t, []string{"value"}, labels(0, 1))
	assert.Equal(t, []string{"state"}, labels(0, 2))
	assert.Equal(t, []string{"component", "state"}, labels(1, 0))
	assert.Equal(t, []string{"type", "status", "reason"}, labels(1, 1))
	assert.Equal(t, ConditionConfig{TypeField: "kind", StatusField: "status", ReasonField: "reason"}, specs[1].families[1].cond)
	assert.Equal(t, []string{"key"}, labels(1, 2))
}

func TestValidateNamesTheKeyPath(t *testing.T) {
	err := xconfmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{
		`metric_prefix: "9x" is not a valid metric name prefix`,
		`crds[0].gvr.resource: "Things" must be the lower-case plural`,
		`crds[0].namespaces[0]: "Bad_NS" is not a namespace name`,
		`crds[0].namespaces[2]: "ok" is listed twice`,
		`crds[0].common_labels.bad-label: "bad-label" is not a valid label name`,
		`crds[0].metrics[0].labels.name: label "name" is defined twice (it is also a common label)`,
		`crds[0].metrics[1].name: "9xbad-name" is not a valid metric name`,
		"crds[0].metrics[2].path: empty key at offset 5",
		`crds[0].metrics[3].type: "histogram" is not one of`,
		`crds[0].metrics[4].value_label: label "name" is defined twice`,
		"crds[0].metrics[5].key_label: not used by type gauge",
		`crds[0].metrics[6].name: "9xa_gauge" is already defined by crds[0].metrics[2]`,
		`crds[1].name: "a" is already used by crds[0]`,
		"crds[1].gvr.version: must not be empty",
		`crds[1].metrics[0].name: "9xshared" is also defined by crds[0].metrics[7] with labels [value]; here its labels are [state]`,
		"crds[1].metrics[1].path: must not be empty",
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestValidateRejectsBadFieldPathWithCaret(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CRDs = []ResourceConfig{{Name: "x", GVR: GVRConfig{Version: "v1", Resource: "xs"}, Metrics: []MetricConfig{
		{Type: TypeGauge, Name: "x", Path: "status.conditions[type=Ready]]status"},
	}}}
	err := xconfmap.Validate(cfg)
	require.Error(t, err)
	assert.ErrorContains(t, err, `crds[0].metrics[0].path: unexpected ']': expected '.' or '[' at offset 29`)
	assert.ErrorContains(t, err, "\tstatus.conditions[type=Ready]]status\n\t"+"                             ^")
}
