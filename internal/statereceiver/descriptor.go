package statereceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// descriptor is what all series of one metric share: its resource, scope and metric metadata.
type descriptor struct {
	resource       pcommon.Resource
	resourceSchema string
	scope          pcommon.InstrumentationScope
	scopeSchema    string
	name, desc     string
	unit           string
	typ            pmetric.MetricType
	monotonic      bool
	temporality    pmetric.AggregationTemporality
	refs           int // series held; a descriptor without any is dropped
}

// descriptors interns descriptors by their encoding.
type descriptors struct {
	index map[string]uint32
	list  []*descriptor // nil where freed
	keys  []string      // encoding of list[i], to unindex it
	free  []uint32
}

// get returns the index of the descriptor encoded as key, creating it from rm, sm and m.
func (ds *descriptors) get(key []byte, rm pmetric.ResourceMetrics, sm pmetric.ScopeMetrics, m pmetric.Metric) uint32 {
	if i, ok := ds.index[string(key)]; ok {
		return i
	}
	d := &descriptor{
		resource:       pcommon.NewResource(),
		resourceSchema: rm.SchemaUrl(),
		scope:          pcommon.NewInstrumentationScope(),
		scopeSchema:    sm.SchemaUrl(),
		name:           m.Name(),
		desc:           m.Description(),
		unit:           m.Unit(),
		typ:            m.Type(),
	}
	rm.Resource().CopyTo(d.resource)
	sm.Scope().CopyTo(d.scope)
	d.monotonic, d.temporality = sumShape(m)
	var i uint32
	if n := len(ds.free); n > 0 {
		i, ds.free = ds.free[n-1], ds.free[:n-1]
		ds.list[i], ds.keys[i] = d, string(key)
	} else {
		i = uint32(len(ds.list))
		ds.list, ds.keys = append(ds.list, d), append(ds.keys, string(key))
	}
	ds.index[ds.keys[i]] = i
	return i
}

// release drops one series of descriptor i, and the descriptor with its last series.
func (ds *descriptors) release(i uint32) {
	d := ds.list[i]
	if d.refs--; d.refs > 0 {
		return
	}
	delete(ds.index, ds.keys[i])
	ds.list[i], ds.keys[i] = nil, ""
	ds.free = append(ds.free, i)
}

func sumShape(m pmetric.Metric) (monotonic bool, temporality pmetric.AggregationTemporality) {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().IsMonotonic(), m.Sum().AggregationTemporality()
	case pmetric.MetricTypeHistogram:
		return false, m.Histogram().AggregationTemporality()
	case pmetric.MetricTypeExponentialHistogram:
		return false, m.ExponentialHistogram().AggregationTemporality()
	}
	return false, pmetric.AggregationTemporalityUnspecified
}

// appendScope encodes a scope's identity (name, version, schema URL, attributes).
func (t *tracker) appendScope(b []byte, sm pmetric.ScopeMetrics) []byte {
	b = appendString(b, sm.SchemaUrl())
	b = appendString(b, sm.Scope().Name())
	b = appendString(b, sm.Scope().Version())
	return t.appendAttrs(b, sm.Scope().Attributes())
}

// appendMetric encodes what of a metric shapes its Prometheus name and type.
func appendMetric(b []byte, m pmetric.Metric) []byte {
	monotonic, temporality := sumShape(m)
	b = appendString(b, m.Name())
	b = appendString(b, m.Unit())
	b = appendString(b, m.Description())
	b = append(b, byte(m.Type()), byte(temporality), 0)
	if monotonic {
		b[len(b)-1] = 1
	}
	return b
}

// newScope starts this descriptor's resource and scope in md and returns its metric slice.
func (d *descriptor) newScope(md pmetric.Metrics) pmetric.MetricSlice {
	rm := md.ResourceMetrics().AppendEmpty()
	d.resource.CopyTo(rm.Resource())
	rm.SetSchemaUrl(d.resourceSchema)
	sm := rm.ScopeMetrics().AppendEmpty()
	d.scope.CopyTo(sm.Scope())
	sm.SetSchemaUrl(d.scopeSchema)
	return sm.Metrics()
}

// appendMarker adds a metric holding one staleness marker for the series with attrs.
func (d *descriptor) appendMarker(ms pmetric.MetricSlice, attrs pcommon.Map, ts pcommon.Timestamp) {
	m := ms.AppendEmpty()
	m.SetName(d.name)
	m.SetDescription(d.desc)
	m.SetUnit(d.unit)
	var dp interface {
		Attributes() pcommon.Map
		SetTimestamp(pcommon.Timestamp)
		SetFlags(pmetric.DataPointFlags)
	}
	switch d.typ {
	case pmetric.MetricTypeSum:
		s := m.SetEmptySum()
		s.SetIsMonotonic(d.monotonic)
		s.SetAggregationTemporality(d.temporality)
		dp = s.DataPoints().AppendEmpty()
	case pmetric.MetricTypeHistogram:
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(d.temporality)
		dp = h.DataPoints().AppendEmpty()
	case pmetric.MetricTypeExponentialHistogram:
		h := m.SetEmptyExponentialHistogram()
		h.SetAggregationTemporality(d.temporality)
		dp = h.DataPoints().AppendEmpty()
	case pmetric.MetricTypeSummary:
		dp = m.SetEmptySummary().DataPoints().AppendEmpty()
	default:
		dp = m.SetEmptyGauge().DataPoints().AppendEmpty()
	}
	attrs.MoveTo(dp.Attributes())
	dp.SetTimestamp(ts)
	dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
}
