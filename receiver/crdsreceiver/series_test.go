package crdsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
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
			assert.NotPanics(t, func() { st.set(spec.compute(obj, &st.in)) }, "value %d: %#v", i, v)
			assert.NotPanics(t, func() {
				st.set(spec.compute(map[string]any{"metadata": v, "spec": v, "status": v}, &st.in))
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
		"spec": map[string]any{"sizes": map[string]any{"a": "1Ki", "b": "lots", "c": map[string]any{}}}}, &st.in)
	st.set(o)
	assert.Equal(t, int64(1), st.valueErrors[0].Load(), "missing strict gauge")
	assert.Equal(t, int64(0), st.valueErrors[1].Load(), "nil_is_zero reads 0")
	assert.Equal(t, int64(2), st.valueErrors[2].Load(), `"lots" and a map are not numbers`)
	require.Len(t, o.points, 2)
	assert.Equal(t, point{family: 1, lo: 0, hi: 0, value: 0}, o.points[0])
	assert.Equal(t, 1024.0, o.points[1].value)
	assert.Equal(t, []string{"a"}, o.vals[o.points[1].lo:o.points[1].hi])
}

// An object's value errors count once per version: not again when the same version is listed
// again (a relist, or the next leadership term after reset), again after it changed; a deleted
// object is forgotten, and so is one deleted while nobody watched (pruned at the next full list).
func TestValueErrorsCountOncePerObjectVersion(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CRDs = []ResourceConfig{{Name: "r", GVR: GVRConfig{Version: "v1", Resource: "rs"}, Metrics: []MetricConfig{
		{Type: TypeGauge, Name: "n", Path: "spec.n"},
	}}}
	specs, err := compile(cfg)
	require.NoError(t, err)
	st := newResourceStore(&specs[0])
	object := func(uid, rv string) map[string]any {
		return map[string]any{"metadata": map[string]any{"uid": uid, "resourceVersion": rv}, "spec": map[string]any{"n": "bad"}}
	}
	set := func(uid, rv string) { st.set(specs[0].compute(object(uid, rv), &st.in)) }
	errs := func() int64 { return st.valueErrors[0].Load() }

	set("a", "1")
	set("b", "1")
	require.Equal(t, int64(2), errs())
	set("a", "1") // relist
	require.Equal(t, int64(2), errs())
	st.reset() // next term lists again
	set("a", "1")
	set("b", "1")
	require.Equal(t, int64(2), errs(), "a new term counted unchanged objects again")
	set("a", "2") // a changed, still bad
	require.Equal(t, int64(3), errs())

	st.remove("a")
	set("a", "2") // a re-created object is counted again
	require.Equal(t, int64(4), errs())

	st.reset()
	set("a", "2") // b was deleted while nobody watched
	st.pruneCounted()
	assert.Equal(t, map[types.UID]string{"a": "2"}, st.counted, "the memory is bounded by the objects held")
}
