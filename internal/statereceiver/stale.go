package statereceiver

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// tracker remembers the identity of every series the last cycle emitted (resource, scope, metric
// name, type, unit, temporality, monotonicity, data point attributes: what both Prometheus
// exporters key a series by) and turns each one a new cycle lacks into a staleness marker: the
// same identity once more, flagged NoRecordedValue. Its memory is one map entry per series of the
// last cycle, holding a compact encoding of the attributes (keys interned).
type tracker struct {
	descs    descriptors
	keyIDs   map[string]uint64 // attribute key → id, so a series stores a varint per key
	keyNames []string
	series   map[string]uint32 // encoded identity → index into seen
	seen     []uint32          // generation of the last cycle that had the series
	free     []uint32
	gen      uint32

	buf   []byte
	pairs []pair
}

type pair struct {
	key string
	val pcommon.Value
}

func newTracker() *tracker {
	return &tracker{descs: descriptors{index: map[string]uint32{}}, keyIDs: map[string]uint64{}, series: map[string]uint32{}}
}

// update records md as the latest cycle and returns markers, timestamped ts, for every series the
// previous update had and md lacks. update(empty) marks everything stale and forgets it.
func (t *tracker) update(md pmetric.Metrics, ts pcommon.Timestamp) pmetric.Metrics {
	t.gen++
	var resKey, scopeKey []byte
	for _, rm := range md.ResourceMetrics().All() {
		resKey = t.appendAttrs(append(resKey[:0], rm.SchemaUrl()...), rm.Resource().Attributes())
		for _, sm := range rm.ScopeMetrics().All() {
			scopeKey = t.appendScope(append(scopeKey[:0], resKey...), sm)
			for _, m := range sm.Metrics().All() {
				d := t.descs.get(appendMetric(scopeKey, m), rm, sm, m)
				t.observe(d, m)
			}
		}
	}
	return t.sweep(ts)
}

// observe marks every data point of m as seen in this generation.
func (t *tracker) observe(d uint32, m pmetric.Metric) {
	see := func(attrs pcommon.Map, flags pmetric.DataPointFlags) {
		if flags.NoRecordedValue() {
			return // a marker, not a live point
		}
		t.buf = t.appendAttrs(binary.AppendUvarint(t.buf[:0], uint64(d)), attrs)
		if i, ok := t.series[string(t.buf)]; ok {
			t.seen[i] = t.gen
			return
		}
		var i uint32
		if n := len(t.free); n > 0 {
			i, t.free = t.free[n-1], t.free[:n-1]
			t.seen[i] = t.gen
		} else {
			i = uint32(len(t.seen))
			t.seen = append(t.seen, t.gen)
		}
		t.series[string(t.buf)] = i
		t.descs.list[d].refs++
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			see(dp.Attributes(), dp.Flags())
		}
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			see(dp.Attributes(), dp.Flags())
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			see(dp.Attributes(), dp.Flags())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			see(dp.Attributes(), dp.Flags())
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range m.Summary().DataPoints().All() {
			see(dp.Attributes(), dp.Flags())
		}
	}
}

// sweep turns every series not seen in this generation into a marker and forgets it. Each marker
// is a metric of its own: contrib's Prometheus exporter stops reading a metric's data points at the
// first one flagged NoRecordedValue.
func (t *tracker) sweep(ts pcommon.Timestamp) pmetric.Metrics {
	markers := pmetric.NewMetrics()
	scopes := map[uint32]pmetric.MetricSlice{}
	for key, i := range t.series {
		if t.seen[i] == t.gen {
			continue
		}
		d, attrs := t.decode(key)
		ms, ok := scopes[d]
		if !ok {
			ms = t.descs.list[d].newScope(markers)
			scopes[d] = ms
		}
		t.descs.list[d].appendMarker(ms, attrs, ts)
		delete(t.series, key)
		t.free = append(t.free, i)
		t.descs.release(d)
	}
	return markers
}

// appendAttrs encodes attrs sorted by key, so that the order a receiver puts them in never
// changes a series' identity.
func (t *tracker) appendAttrs(b []byte, attrs pcommon.Map) []byte {
	t.pairs = t.pairs[:0]
	for k, v := range attrs.All() {
		t.pairs = append(t.pairs, pair{k, v})
	}
	if !slices.IsSortedFunc(t.pairs, comparePairs) {
		slices.SortFunc(t.pairs, comparePairs)
	}
	for _, p := range t.pairs {
		id, ok := t.keyIDs[p.key]
		if !ok {
			id = uint64(len(t.keyNames))
			t.keyIDs[p.key] = id
			t.keyNames = append(t.keyNames, p.key)
		}
		b = appendValue(binary.AppendUvarint(b, id), p.val)
	}
	return b
}

func comparePairs(a, b pair) int { return strings.Compare(a.key, b.key) }

// decode is the inverse of a series key: its descriptor and attributes.
func (t *tracker) decode(key string) (uint32, pcommon.Map) {
	b := []byte(key)
	d, n := binary.Uvarint(b)
	b = b[n:]
	attrs := pcommon.NewMap()
	for len(b) > 0 {
		id, n := binary.Uvarint(b)
		b = readValue(b[n:], attrs.PutEmpty(t.keyNames[id]))
	}
	return uint32(d), attrs
}

const (
	valueStr    = 's'
	valueInt    = 'i'
	valueDouble = 'd'
	valueBool   = 'b'
	valueOther  = 'o' // maps, slices and bytes: by their string form, which is what labels show
)

func appendValue(b []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendString(append(b, valueStr), v.Str())
	case pcommon.ValueTypeInt:
		return binary.AppendVarint(append(b, valueInt), v.Int())
	case pcommon.ValueTypeDouble:
		return binary.LittleEndian.AppendUint64(append(b, valueDouble), math.Float64bits(v.Double()))
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return append(b, valueBool, 1)
		}
		return append(b, valueBool, 0)
	default:
		return appendString(append(b, valueOther), v.AsString())
	}
}

func readValue(b []byte, into pcommon.Value) []byte {
	typ, b := b[0], b[1:]
	switch typ {
	case valueInt:
		v, n := binary.Varint(b)
		into.SetInt(v)
		return b[n:]
	case valueDouble:
		into.SetDouble(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		return b[8:]
	case valueBool:
		into.SetBool(b[0] == 1)
		return b[1:]
	default:
		n, w := binary.Uvarint(b)
		into.SetStr(string(b[w : w+int(n)]))
		return b[w+int(n):]
	}
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}
