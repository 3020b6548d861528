package statereceiver

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// cycleOf builds one cycle's metrics: a gauge point per label set, in a resource and scope the
// way receivers emit them.
func cycleOf(name string, labelSets ...map[string]any) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("k8s.cluster.name", "east")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("test/scope")
	sm.Scope().SetVersion("1.2.3")
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit("{status}")
	m.SetDescription("a test gauge")
	g := m.SetEmptyGauge()
	for _, labels := range labelSets {
		dp := g.DataPoints().AppendEmpty()
		_ = dp.Attributes().FromRaw(labels)
		dp.SetIntValue(1)
	}
	return md
}

func TestTrackerMarksWhatACycleLacks(t *testing.T) {
	tr := newTracker()
	down := map[string]any{"database": "a", "error_type": "connection_refused"}
	up := map[string]any{"database": "a", "error_type": ""}
	other := map[string]any{"database": "b", "error_type": ""}

	assert.Zero(t, tr.update(cycleOf("database.connectivity", down, other), 1).DataPointCount(), "nothing is stale in a first cycle")

	out := tr.update(cycleOf("database.connectivity", up, other), 2)
	require.Equal(t, 1, out.DataPointCount(), "the recovered database's old series is marked, nothing else")
	rm := out.ResourceMetrics().At(0)
	assert.Equal(t, map[string]any{"k8s.cluster.name": "east"}, rm.Resource().Attributes().AsRaw(), "a marker keeps its resource")
	sm := rm.ScopeMetrics().At(0)
	assert.Equal(t, "test/scope", sm.Scope().Name())
	assert.Equal(t, "1.2.3", sm.Scope().Version())
	m := sm.Metrics().At(0)
	assert.Equal(t, "database.connectivity", m.Name())
	assert.Equal(t, "{status}", m.Unit(), "the unit shapes the Prometheus name: it must match")
	dp := m.Gauge().DataPoints().At(0)
	assert.True(t, dp.Flags().NoRecordedValue())
	assert.Equal(t, down, dp.Attributes().AsRaw())
	assert.Equal(t, pcommon.Timestamp(2), dp.Timestamp())

	assert.Zero(t, tr.update(cycleOf("database.connectivity", up, other), 3).DataPointCount(), "a series is marked once")
	all := tr.update(pmetric.NewMetrics(), 4)
	assert.Equal(t, 2, all.DataPointCount(), "an empty update marks everything")
	assert.Zero(t, tr.update(pmetric.NewMetrics(), 5).DataPointCount(), "and forgets it")
	assert.Empty(t, tr.series)
	assert.Empty(t, tr.descs.index, "descriptors go with their last series")
}

func TestTrackerIdentityIgnoresAttributeOrder(t *testing.T) {
	tr := newTracker()
	first := cycleOf("node.condition")
	dp := first.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().AppendEmpty()
	dp.Attributes().PutStr("node", "n1")
	dp.Attributes().PutStr("condition", "Ready")
	tr.update(first, 1)

	second := cycleOf("node.condition")
	dp = second.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().AppendEmpty()
	dp.Attributes().PutStr("condition", "Ready")
	dp.Attributes().PutStr("node", "n1")
	assert.Zero(t, tr.update(second, 2).DataPointCount(), "the same series with its attributes in another order is not stale")
}

func TestTrackerIdentityParts(t *testing.T) {
	// Each of these changes the series' identity for the Prometheus exporters, so the old one
	// must be marked.
	changes := map[string]func(pmetric.Metrics){
		"resource attribute": func(md pmetric.Metrics) {
			md.ResourceMetrics().At(0).Resource().Attributes().PutStr("k8s.cluster.name", "west")
		},
		"scope version": func(md pmetric.Metrics) { md.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().SetVersion("2") },
		"unit":          func(md pmetric.Metrics) { md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).SetUnit("s") },
		"int attribute value": func(md pmetric.Metrics) {
			md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0).Attributes().PutInt("port", 5433)
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			tr := newTracker()
			tr.update(cycleOf("m", map[string]any{"port": 5432}), 1)
			next := cycleOf("m", map[string]any{"port": 5432})
			change(next)
			out := tr.update(next, 2)
			require.Equal(t, 1, out.DataPointCount())
			assert.Equal(t, map[string]any{"port": int64(5432)}, out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0).Attributes().AsRaw(), "the marker carries the old identity with its types")
		})
	}
}

func TestTrackerMarkersKeepTheMetricShape(t *testing.T) {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	sum := ms.AppendEmpty()
	sum.SetName("crds.value_errors")
	sum.SetEmptySum().SetIsMonotonic(true)
	sum.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for _, r := range []string{"a", "b"} {
		sum.Sum().DataPoints().AppendEmpty().Attributes().PutStr("resource", r)
	}
	hist := ms.AppendEmpty()
	hist.SetName("image_pull.duration")
	hist.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hist.Histogram().DataPoints().AppendEmpty().Attributes().PutStr("registry", "docker.io")

	tr := newTracker()
	tr.update(md, 1)
	out := tr.update(pmetric.NewMetrics(), 2)
	got := map[string]int{}
	for _, rm := range out.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				switch m.Type() {
				case pmetric.MetricTypeSum:
					assert.True(t, m.Sum().IsMonotonic())
					assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality())
					require.Equal(t, 1, m.Sum().DataPoints().Len(), "one marker per metric: contrib stops at the first")
					assert.True(t, m.Sum().DataPoints().At(0).Flags().NoRecordedValue())
				case pmetric.MetricTypeHistogram:
					assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Histogram().AggregationTemporality())
					require.Equal(t, 1, m.Histogram().DataPoints().Len())
					assert.True(t, m.Histogram().DataPoints().At(0).Flags().NoRecordedValue())
				default:
					t.Fatalf("unexpected marker type %s", m.Type())
				}
				got[m.Name()]++
			}
		}
	}
	assert.Equal(t, map[string]int{"crds.value_errors": 2, "image_pull.duration": 1}, got)
}

func TestTrackerIgnoresIncomingMarkers(t *testing.T) {
	tr := newTracker()
	md := cycleOf("m", map[string]any{"k": "v"})
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	tr.update(md, 1)
	assert.Empty(t, tr.series, "a marker is not a live series")
}

// BenchmarkTracker100kSeries measures the marker bookkeeping of a 100,000-series cycle: the
// memory held between cycles (reported as bytes/series) and the cost of an unchanged cycle.
func BenchmarkTracker100kSeries(b *testing.B) {
	const n = 100_000
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	m := ms.AppendEmpty()
	m.SetName("kubeblocks.cluster.info")
	dps := m.SetEmptyGauge().DataPoints()
	for i := range n {
		dp := dps.AppendEmpty()
		dp.SetIntValue(1)
		a := dp.Attributes()
		a.PutStr("name", fmt.Sprintf("cluster-%06d", i))
		a.PutStr("namespace", fmt.Sprintf("ns-%04d", i%5000))
		a.PutStr("cluster_def", "postgresql")
		a.PutStr("cluster_version", "postgresql-14.8.0")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := newTracker()
	tr.update(md, 1)
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := float64(after.HeapAlloc-before.HeapAlloc) / n
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if out := tr.update(md, pcommon.Timestamp(i+2)); out.DataPointCount() != 0 {
			b.Fatal("an unchanged cycle has no markers")
		}
	}
	b.ReportMetric(held, "held-bytes/series")
	runtime.KeepAlive(tr)
}
