package crdsreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// emit appends the resource's configured metrics to ms: one pass over the precomputed series,
// no object is read again. Slices are sized exactly from the kept per-family point counts.
func (s *resourceStore) emit(ms pmetric.MetricSlice, ts pcommon.Timestamp) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	spec := s.spec
	dps := make([]pmetric.NumberDataPointSlice, len(spec.families))
	ints := make([]bool, len(spec.families))
	for fi := range spec.families {
		f := &spec.families[fi]
		m := ms.AppendEmpty()
		m.SetName(f.name)
		m.SetDescription(f.help)
		dps[fi] = m.SetEmptyGauge().DataPoints()
		ints[fi] = f.typ != TypeGauge && f.typ != TypeMapGauge
		if f.typ == TypeCount {
			s.emitCounts(dps[fi], f, ts)
			continue
		}
		dps[fi].EnsureCapacity(s.points[fi])
	}
	common := spec.commonLabels
	for _, o := range s.objects {
		for _, p := range o.points {
			f := &spec.families[p.family]
			dp := dps[p.family].AppendEmpty()
			dp.SetTimestamp(ts)
			if ints[p.family] {
				dp.SetIntValue(int64(p.value))
			} else {
				dp.SetDoubleValue(p.value)
			}
			attrs := dp.Attributes()
			attrs.EnsureCapacity(len(common) + len(f.labels))
			for i, name := range common {
				attrs.PutStr(name, o.vals[i])
			}
			for i, v := range o.vals[p.lo:p.hi] {
				attrs.PutStr(f.labels[i], v)
			}
		}
	}
}

func (s *resourceStore) emitCounts(dps pmetric.NumberDataPointSlice, f *family, ts pcommon.Timestamp) {
	counts := s.counts[f.countIndex]
	dps.EnsureCapacity(len(counts))
	for _, e := range counts {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetIntValue(e.n)
		attrs := dp.Attributes()
		attrs.EnsureCapacity(len(f.labels))
		for i, v := range e.labels {
			attrs.PutStr(f.labels[i], v)
		}
	}
}
