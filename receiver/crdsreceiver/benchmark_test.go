package crdsreceiver

import (
	"fmt"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// benchResource is the bench-crds config: one info, gauge, string_state, conditions and count
// metric on KubeBlocks-like Clusters (the objects of ../shared/bench/crload).
func benchResource() ResourceConfig {
	return ResourceConfig{
		Name: "kubeblocks-cluster", GVR: gvrConfig(clustersGVR), CommonLabels: nameNamespace,
		Metrics: []MetricConfig{
			{Type: TypeInfo, Name: "kubeblocks_cluster_info", Labels: map[string]string{"cluster_def": "spec.clusterDefinitionRef", "cluster_version": "spec.clusterVersionRef"}},
			{Type: TypeGauge, Name: "kubeblocks_cluster_replicas", Path: "spec.replicas"},
			{Type: TypeStringState, Name: "kubeblocks_cluster_status", Path: "status.phase"},
			{Type: TypeConditions, Name: "kubeblocks_cluster_condition", Path: "status.conditions"},
			{Type: TypeCount, Name: "kubeblocks_phase_count", Path: "status.phase"},
		},
	}
}

var benchPhases = []string{"Running", "Running", "Running", "Creating", "Updating", "Failed", "Stopped"}

// benchObject is crload's object i, as the informer decodes it.
func benchObject(i int) map[string]any {
	phase := benchPhases[i%len(benchPhases)]
	ready := "True"
	if phase != "Running" {
		ready = "False"
	}
	return map[string]any{
		"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster",
		"metadata": map[string]any{"name": fmt.Sprintf("db-%06d", i), "namespace": fmt.Sprintf("ns-%03d", i%50),
			"uid": fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "resourceVersion": fmt.Sprint(1000 + i),
			"labels": map[string]any{"app.kubernetes.io/name": "mysql", "team": fmt.Sprintf("t%d", i%20)}},
		"spec": map[string]any{"clusterDefinitionRef": []string{"mysql", "postgresql", "redis", "mongodb"}[i%4],
			"clusterVersionRef": fmt.Sprintf("v8.0.%d", i%5), "replicas": int64(1 + i%3), "terminationPolicy": "Delete"},
		"status": map[string]any{"phase": phase,
			"conditions": []any{
				map[string]any{"type": "Ready", "status": ready, "reason": "Checked"},
				map[string]any{"type": "ProvisioningStarted", "status": "True", "reason": "Started"},
			},
			"components": map[string]any{"mysql": map[string]any{"phase": phase}}},
	}
}

func benchStore(tb testing.TB, n int) *resourceStore {
	tb.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.CRDs = []ResourceConfig{benchResource()}
	specs, err := compile(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	st := newResourceStore(&specs[0])
	for i := 0; i < n; i++ {
		st.set(st.spec.compute(benchObject(i), &st.in, st.countError))
	}
	return st
}

// BenchmarkHeapPerObject reports the steady heap the receiver keeps per object (series and
// identity; the decoded objects are garbage once transformed).
func BenchmarkHeapPerObject(b *testing.B) {
	const n = 50000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st := benchStore(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/object")
		runtime.KeepAlive(st)
	}
}

// BenchmarkComputeObject is the cost of one add/update: decoded object → series.
func BenchmarkComputeObject(b *testing.B) {
	st := benchStore(b, 0)
	objs := make([]map[string]any, 1000)
	for i := range objs {
		objs[i] = benchObject(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		st.set(st.spec.compute(objs[i%len(objs)], &st.in, st.countError))
		i++
	}
}

// BenchmarkEmit50000 is one collection cycle's work for 50,000 objects (250,005 data points).
func BenchmarkEmit50000(b *testing.B) {
	st := benchStore(b, 50000)
	st.up.Store(true)
	ts := pcommon.Timestamp(1)
	b.ReportAllocs()
	for b.Loop() {
		md := pmetric.NewMetrics()
		st.emit(md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics(), ts)
		if md.DataPointCount() != 250005 {
			b.Fatalf("%d data points", md.DataPointCount())
		}
	}
}
