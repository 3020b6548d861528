package prometheusstateexporter

import (
	"math"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// A corpus of inputs covering what the contrib exporter maps: every case is fed to both
// exporters and their parsed outputs must be equal.

var (
	t0 = pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, 0))
	t1 = pcommon.NewTimestampFromTime(time.Unix(1_700_000_010, 0))
	t2 = pcommon.NewTimestampFromTime(time.Unix(1_700_000_020, 0))
)

// newScope returns a scope of a new resource with the given resource attributes.
func newScope(md pmetric.Metrics, res map[string]any) pmetric.ScopeMetrics {
	rm := md.ResourceMetrics().AppendEmpty()
	_ = rm.Resource().Attributes().FromRaw(res)
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("github.com/labring/otelcol-sealos/test")
	sm.Scope().SetVersion("1.2.3")
	sm.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	sm.Scope().Attributes().PutStr("team", "sealos")
	return sm
}

func gauge(sm pmetric.ScopeMetrics, name, unit, desc string) pmetric.NumberDataPointSlice {
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	return m.SetEmptyGauge().DataPoints()
}

func sum(sm pmetric.ScopeMetrics, name, unit string, monotonic bool, temp pmetric.AggregationTemporality) pmetric.NumberDataPointSlice {
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription("a sum")
	s := m.SetEmptySum()
	s.SetIsMonotonic(monotonic)
	s.SetAggregationTemporality(temp)
	return s.DataPoints()
}

func point(dps pmetric.NumberDataPointSlice, v float64, ts pcommon.Timestamp, attrs map[string]any) pmetric.NumberDataPoint {
	dp := dps.AppendEmpty()
	dp.SetDoubleValue(v)
	dp.SetTimestamp(ts)
	_ = dp.Attributes().FromRaw(attrs)
	return dp
}

func intPoint(dps pmetric.NumberDataPointSlice, v int64, ts pcommon.Timestamp, attrs map[string]any) pmetric.NumberDataPoint {
	dp := dps.AppendEmpty()
	dp.SetIntValue(v)
	dp.SetTimestamp(ts)
	_ = dp.Attributes().FromRaw(attrs)
	return dp
}

func histogram(sm pmetric.ScopeMetrics, name string, temp pmetric.AggregationTemporality, start, ts pcommon.Timestamp, bounds []float64, counts []uint64, total uint64, s float64, attrs map[string]any) {
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit("s")
	m.SetDescription("a histogram")
	h := m.SetEmptyHistogram()
	h.SetAggregationTemporality(temp)
	dp := h.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.ExplicitBounds().FromRaw(bounds)
	dp.BucketCounts().FromRaw(counts)
	dp.SetCount(total)
	dp.SetSum(s)
	_ = dp.Attributes().FromRaw(attrs)
}

func summary(sm pmetric.ScopeMetrics, name string, attrs map[string]any) {
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit("By")
	m.SetDescription("a summary")
	dp := m.SetEmptySummary().DataPoints().AppendEmpty()
	dp.SetTimestamp(t1)
	dp.SetCount(12)
	dp.SetSum(345.5)
	for _, q := range [][2]float64{{0.99, 40}, {0.5, 10}, {0.9, 30}} {
		qv := dp.QuantileValues().AppendEmpty()
		qv.SetQuantile(q[0])
		qv.SetValue(q[1])
	}
	_ = dp.Attributes().FromRaw(attrs)
}

var serviceResource = map[string]any{
	"service.name": "crds", "service.namespace": "sealos", "service.instance.id": "pod-1",
	"k8s.cluster.name": "c1", "host.name": "node-a", "count": 3,
}

// collidingResource has two attributes translating to the same label: target_info joins them,
// converted to series labels they are duplicates and the series are dropped (by both).
var collidingResource = map[string]any{
	"service.name": "crds", "service.instance.id": "pod-2", "host.name": "node-a", "host_name": "dup",
}

// corpusBatch is a batch with every kind of metric the exporter serves.
func corpusBatch(res map[string]any) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sm := newScope(md, res)

	g := gauge(sm, "k8s.node.condition_ready", "", "Ready \\ condition\nsecond line")
	point(g, 1, t1, map[string]any{"node": "a", "k8s.node.name": "a"})
	point(g, 0, t1, map[string]any{"node": "b", "k8s.node.name": "b"})
	point(g, -1, t1, map[string]any{"node": "c", "k8s.node.name": "c"})
	point(g, math.Inf(1), t1, map[string]any{"node": "inf"})
	point(g, math.NaN(), t1, map[string]any{"node": "nan"})
	point(g, 1.5e-7, t1, map[string]any{"node": `quote"back\slash` + "\nnewline"})
	intPoint(gauge(sm, "lvm.vg.size", "By", "bytes"), 123456789012, t1, map[string]any{"vg": "data", "123start": "x", "dotted.name": "y", "é-utf8": "ü"})
	intPoint(gauge(sm, "httpcheck.duration", "ms", "ms gauge"), 42, t1, nil)
	point(gauge(sm, "domain.up", "1", "ratio gauge"), 1, t1, map[string]any{"domain": "example.com"})
	point(gauge(sm, "domain.status", "{status}", "annotated"), 1, t1, map[string]any{"domain": "example.com", "status": 200, "ok": true, "ratio": 0.5})
	point(gauge(sm, "http.server-request.rate", "1/s", "per second"), 3.5, t1, nil)
	point(gauge(sm, "weird..name__with--chars", "", ""), 7, t1, map[string]any{"a..b": "1"})

	c := sum(sm, "image.pulls", "{pull}", true, pmetric.AggregationTemporalityCumulative)
	intPoint(c, 10, t1, map[string]any{"image": "nginx"}).SetStartTimestamp(t0)
	intPoint(c, 3, t1, map[string]any{"image": "redis"})
	point(sum(sm, "k8s.node.condition.status", "{node}", false, pmetric.AggregationTemporalityCumulative), 4, t1, map[string]any{"status": "true"})
	point(sum(sm, "process.cpu.time", "s", true, pmetric.AggregationTemporalityCumulative), 12.25, t1, nil)
	// Dropped by both: unspecified temporality, non-monotonic delta.
	point(sum(sm, "dropped.unspecified", "", true, pmetric.AggregationTemporalityUnspecified), 1, t1, nil)
	point(sum(sm, "dropped.updown.delta", "", false, pmetric.AggregationTemporalityDelta), 1, t1, nil)

	histogram(sm, "image.pull.duration", pmetric.AggregationTemporalityCumulative, t0, t1, []float64{0.5, 0.1, 1, 0.5}, []uint64{2, 1, 3, 4, 5}, 15, 9.75, map[string]any{"image": "nginx"})
	histogram(sm, "no.buckets", pmetric.AggregationTemporalityCumulative, 0, t1, nil, []uint64{7}, 7, 1, nil)
	histogram(sm, "inf.bucket", pmetric.AggregationTemporalityCumulative, 0, t1, []float64{1, math.Inf(1)}, []uint64{1, 2, 0}, 3, 2, nil)
	summary(sm, "rpc.size", map[string]any{"method": "get"})

	// A second resource without service attributes: no target_info, no job/instance.
	sm2 := newScope(md, map[string]any{"k8s.node.name": "node-b"})
	point(gauge(sm2, "k8s.node.condition_ready", "", "Ready \\ condition\nsecond line"), 1, t1, map[string]any{"node": "z", "k8s.node.name": "z"})
	// A scope without name/version and with reserved attributes.
	sm3 := md.ResourceMetrics().At(1).ScopeMetrics().AppendEmpty()
	sm3.Scope().Attributes().PutStr("name", "reserved")
	sm3.Scope().Attributes().PutStr("x.y", "scoped")
	point(gauge(sm3, "scoped.gauge", "", "scoped"), 2, t1, nil)
	return md
}
