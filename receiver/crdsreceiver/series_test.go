package crdsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every metric type reads every kind of JSON value at every path without panicking; whatever
// does not fit is skipped and counted.
func TestComputeSurvivesUnexpectedTypes(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CRDs = []ResourceConfig{clusterResource(), backupResource()}
	specs, err := compile(cfg)
	require.NoError(t, err)
	values := []any{nil, true, int64(-3), 2.5, "", "x", "1h", map[string]any{}, map[string]any{"a": []any{1}},
		[]any{}, []any{nil, "s", map[string]any{"type": 5, "status": map[string]any{}}}}
	for _, spec := range specs {
		st := newResourceStore(&spec)
		for i, v := range values {
			obj := map[string]any{
				"metadata": map[string]any{"name": v, "namespace": v, "uid": "u", "labels": v},
				"spec":     map[string]any{"clusterDefinitionRef": v, "replicas": v, "backupMethod": v},
				"status": map[string]any{"phase": v, "conditions": v, "components": map[string]any{"c": v}, "sizes": v,
					"totalSize": v, "duration": v, "startTimestamp": v},
			}
			assert.NotPanics(t, func() { st.set(spec.compute(obj, &st.in, st.countError)) }, "value %d: %#v", i, v)
			assert.NotPanics(t, func() {
				st.set(spec.compute(map[string]any{"metadata": v, "spec": v, "status": v}, &st.in, st.countError))
			})
		}
	}
}

func TestComputeCountsValueErrorsAndNilIsZero(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CRDs = []ResourceConfig{{Name: "r", GVR: GVRConfig{Version: "v1", Resource: "rs"}, Metrics: []MetricConfig{
		{Type: TypeGauge, Name: "strict", Path: "spec.n"},
		{Type: TypeGauge, Name: "lenient", Path: "spec.n", NilIsZero: true},
		{Type: TypeMapGauge, Name: "sizes", Path: "spec.sizes"},
	}}}
	specs, err := compile(cfg)
	require.NoError(t, err)
	st := newResourceStore(&specs[0])
	o := specs[0].compute(map[string]any{"metadata": map[string]any{"uid": "1"},
		"spec": map[string]any{"sizes": map[string]any{"a": "1Ki", "b": "lots", "c": map[string]any{}}}}, &st.in, st.countError)
	st.set(o)
	assert.Equal(t, int64(1), st.valueErrors[0].Load(), "missing strict gauge")
	assert.Equal(t, int64(0), st.valueErrors[1].Load(), "nil_is_zero reads 0")
	assert.Equal(t, int64(2), st.valueErrors[2].Load(), `"lots" and a map are not numbers`)
	require.Len(t, o.points, 2)
	assert.Equal(t, point{family: 1, lo: 0, hi: 0, value: 0}, o.points[0])
	assert.Equal(t, 1024.0, o.points[1].value)
	assert.Equal(t, []string{"a"}, o.vals[o.points[1].lo:o.points[1].hi])
}
