package prometheusstateexporter

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	prometheustranslator "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheus"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// histState is what a delta histogram accumulates into (contrib's accumulator semantics).
type histState struct {
	bounds []float64
	counts []uint64
	sum    float64
	count  uint64
}

// scopeCtx is what every data point of one scope shares.
type scopeCtx struct {
	fixed  [][]labelPair // scope labels, job/instance, const labels
	origin uint64
	now    int64
}

// ingest renders every data point of one resource; it returns how many series were stored.
func (e *stateExporter) ingestResource(rm pmetric.ResourceMetrics, now int64) int {
	res := rm.Resource().Attributes()
	jobInst := jobInstanceLabels(res)
	stored := 0
	var buf []labelPair
	for _, sm := range rm.ScopeMetrics().All() {
		sc := scopeCtx{now: now, origin: origin(res, sm.Scope().Name(), sm.Scope().Version(), sm.SchemaUrl(), sm.Scope().Attributes())}
		if !e.cfg.WithoutScopeInfo {
			scope, err := e.namer.scopeLabels(sm.Scope().Name(), sm.Scope().Version(), sm.SchemaUrl(), sm.Scope().Attributes())
			if err != nil {
				e.drop(reasonInvalidLabels, sm.Scope().Name(), sm.Metrics().Len(), err)
				continue
			}
			sc.fixed = append(sc.fixed, scope)
		}
		sc.fixed = append(sc.fixed, jobInst, e.constLabels)
		for _, m := range sm.Metrics().All() {
			var n int
			n, buf = e.ingestMetric(m, &sc, buf)
			stored += n
		}
	}
	if stored > 0 {
		e.updateTargetInfo(res, now)
	}
	return stored
}

// ingestMetric stores a metric's data points in its family. It returns how many points
// contrib's accumulator would have kept (target_info follows those, even when the points
// then fail to convert).
func (e *stateExporter) ingestMetric(m pmetric.Metric, sc *scopeCtx, buf []labelPair) (int, []labelPair) {
	var typ string
	points := 0
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		typ, points = "gauge", m.Gauge().DataPoints().Len()
		if t, ok := m.Metadata().Get(prometheustranslator.MetricMetadataTypeKey); ok && t.Str() == string(model.MetricTypeUnknown) {
			typ = "untyped"
		}
	case pmetric.MetricTypeSum:
		s := m.Sum()
		points = s.DataPoints().Len()
		switch {
		case s.AggregationTemporality() == pmetric.AggregationTemporalityUnspecified:
			e.drop(reasonTemporality, m.Name(), points, nil)
			return 0, buf
		case s.AggregationTemporality() == pmetric.AggregationTemporalityDelta && !s.IsMonotonic():
			e.drop(reasonTemporality, m.Name(), points, nil)
			return 0, buf
		}
		typ = "gauge"
		if s.IsMonotonic() {
			typ = "counter"
		}
	case pmetric.MetricTypeHistogram:
		typ, points = "histogram", m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		typ, points = "summary", m.Summary().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		points = m.ExponentialHistogram().DataPoints().Len()
		e.drop(reasonUnsupportedType, m.Name(), points, nil)
		return points, buf
	default:
		return 0, buf
	}
	if points == 0 {
		return 0, buf
	}
	name, err := e.namer.metricName(m)
	if err != nil {
		e.drop(reasonInvalidName, m.Name(), points, err)
		return points, buf
	}
	f, ok := e.store.lockFamily(name, typ, m.Description())
	if !ok {
		e.drop(reasonTypeConflict, name, points, nil)
		return points, buf
	}
	defer f.mu.Unlock()
	pw := pointWriter{e: e, f: f, sc: sc, m: m, buf: buf}
	pw.run()
	return points, pw.buf
}

// pointWriter stores the data points of one metric into its (locked) family.
type pointWriter struct {
	e       *stateExporter
	f       *family
	sc      *scopeCtx
	m       pmetric.Metric
	buf     []labelPair
	key     []byte
	scratch []byte
	stored  int
}

// point is the part of every data point type the writer needs.
type dataPoint interface {
	Attributes() pcommon.Map
	Flags() pmetric.DataPointFlags
	Timestamp() pcommon.Timestamp
	StartTimestamp() pcommon.Timestamp
}

func (w *pointWriter) run() int {
	switch w.m.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range w.m.Gauge().DataPoints().All() {
			if !w.number(dp, false) {
				break
			}
		}
	case pmetric.MetricTypeSum:
		delta := w.m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		for _, dp := range w.m.Sum().DataPoints().All() {
			if !w.number(dp, delta) {
				break
			}
		}
	case pmetric.MetricTypeHistogram:
		delta := w.m.Histogram().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		for _, dp := range w.m.Histogram().DataPoints().All() {
			if !w.histogram(dp, delta) {
				break
			}
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range w.m.Summary().DataPoints().All() {
			if !w.summary(dp) {
				break
			}
		}
	}
	return w.stored
}

// prepare computes the series key of dp and finds its current series. proceed is false when the
// rest of the metric must be skipped: contrib stops at a point flagged "no recorded value"
// after deleting its series.
func (w *pointWriter) prepare(dp dataPoint) (s *series, ok, proceed bool) {
	var err error
	w.buf, err = w.e.namer.seriesLabels(w.buf, dp.Attributes(), w.sc.fixed...)
	if err != nil {
		w.e.drop(reasonInvalidLabels, w.m.Name(), 1, err)
		return nil, false, true
	}
	w.key = appendLabels(w.key[:0], w.buf)
	s = w.f.series[string(w.key)]
	if dp.Flags().NoRecordedValue() {
		w.f.delete(string(w.key))
		return nil, false, false
	}
	// Only a newer point of the same producer replaces a series (contrib keeps the latest).
	if s != nil && s.origin == w.sc.origin && int64(dp.Timestamp()) < s.ts {
		return nil, false, true
	}
	return s, true, true
}

func (w *pointWriter) sampleWriter(dp dataPoint) sampleWriter {
	sw := sampleWriter{name: w.f.name, labels: w.key}
	if w.e.cfg.SendTimestamps {
		sw.timestamp = " " + strconv.FormatInt(int64(dp.Timestamp())/1e6, 10)
	}
	return sw
}

// commit stores the rendered scratch buffer as the series' body, reusing the old body when
// nothing changed (the common case for state metrics: a scrape then stays a copy). It returns
// the stored series for the caller to record accumulation state.
func (w *pointWriter) commit(dp dataPoint, s *series) *series {
	body := w.scratch
	if s != nil && bytes.Equal(s.body, body) {
		body = s.body
	} else {
		body = slices.Clone(body)
	}
	key := ""
	if s == nil {
		key = string(w.key) // a new series: the only time the key is allocated
	}
	s, dup := w.f.put(s, key, body, w.sc.origin, w.sc.now)
	if dup {
		w.e.duplicates.Add(1)
		w.e.store.changed()
	}
	s.ts = int64(dp.Timestamp())
	s.start = int64(dp.StartTimestamp())
	w.stored++
	return s
}

func (w *pointWriter) number(dp pmetric.NumberDataPoint, delta bool) bool {
	s, ok, proceed := w.prepare(dp)
	if !ok {
		return proceed
	}
	var v float64
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		v = float64(dp.IntValue())
	case pmetric.NumberDataPointValueTypeDouble:
		v = dp.DoubleValue()
	}
	start := int64(dp.StartTimestamp())
	// Delta to cumulative: a point starting where the previous one ended adds to it.
	if delta && s != nil && dp.StartTimestamp() == pcommon.Timestamp(s.ts) {
		v += s.value
		start = s.start
	}
	w.scratch = w.sampleWriter(dp).line(w.scratch[:0], "", "", 0, v)
	s = w.commit(dp, s)
	s.value, s.start = v, start
	return true
}

func (w *pointWriter) histogram(dp pmetric.HistogramDataPoint, delta bool) bool {
	s, ok, proceed := w.prepare(dp)
	if !ok {
		return proceed
	}
	h := &histState{bounds: dp.ExplicitBounds().AsRaw(), counts: dp.BucketCounts().AsRaw(), sum: dp.Sum(), count: dp.Count()}
	start := int64(dp.StartTimestamp())
	if delta && s != nil && s.hist != nil {
		if start != s.ts {
			// Misaligned: a restart when it starts after the previous point, else dropped.
			if start <= s.ts {
				w.e.drop(reasonMisaligned, w.m.Name(), 1, nil)
				return true
			}
		} else {
			h = accumulateHistogram(s.hist, h)
			start = s.start
		}
	}
	w.scratch = renderHistogram(w.scratch[:0], w.sampleWriter(dp), h)
	s = w.commit(dp, s)
	s.start = start
	s.hist = nil
	if delta {
		s.hist = h
	}
	return true
}

// accumulateHistogram adds a delta point to the previous one (same bounds), or takes the newer
// point when the bounds changed, as contrib's accumulateHistogramValues.
func accumulateHistogram(prev, cur *histState) *histState {
	if !slices.Equal(prev.bounds, cur.bounds) {
		return cur
	}
	out := &histState{bounds: cur.bounds, counts: make([]uint64, len(cur.counts)), sum: prev.sum + cur.sum, count: prev.count + cur.count}
	for i, c := range cur.counts {
		out.counts[i] = c
		if i < len(prev.counts) {
			out.counts[i] += prev.counts[i]
		}
	}
	return out
}

// renderHistogram writes cumulative buckets as client_golang's NewConstHistogram does:
// bounds deduplicated (first index wins) and sorted, +Inf is the total count.
func renderHistogram(b []byte, sw sampleWriter, h *histState) []byte {
	index := make(map[float64]int, len(h.bounds))
	bounds := make([]float64, 0, len(h.bounds))
	for i, ub := range h.bounds {
		if _, ok := index[ub]; !ok {
			index[ub] = i
			bounds = append(bounds, ub)
		}
	}
	slices.Sort(bounds)
	var cum uint64
	infSeen := false
	for _, ub := range bounds {
		if i := index[ub]; i < len(h.counts) {
			cum += h.counts[i]
		}
		b = sw.line(b, "_bucket", model.BucketLabel, ub, float64(cum))
		infSeen = infSeen || math.IsInf(ub, +1)
	}
	if !infSeen {
		b = sw.line(b, "_bucket", model.BucketLabel, math.Inf(+1), float64(h.count))
	}
	b = sw.line(b, "_sum", "", 0, h.sum)
	return sw.line(b, "_count", "", 0, float64(h.count))
}

func (w *pointWriter) summary(dp pmetric.SummaryDataPoint) bool {
	s, ok, proceed := w.prepare(dp)
	if !ok {
		return proceed
	}
	q := map[float64]float64{}
	for _, qv := range dp.QuantileValues().All() {
		q[qv.Quantile()] = qv.Value()
	}
	keys := make([]float64, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	sw := w.sampleWriter(dp)
	b := w.scratch[:0]
	for _, k := range keys {
		b = sw.line(b, "", model.QuantileLabel, k, q[k])
	}
	b = sw.line(b, "_sum", "", 0, dp.Sum())
	w.scratch = sw.line(b, "_count", "", 0, float64(dp.Count()))
	w.commit(dp, s)
	return true
}
