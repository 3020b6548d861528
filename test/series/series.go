// Package series flattens metrics into "name{k="v",...}" → value maps, so tests can assert exact
// series the way a Prometheus user would read them.
package series

import (
	"fmt"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Of returns every live gauge and sum data point of md keyed by metric name and sorted attributes;
// staleness markers are left out (see Stale).
func Of(md pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	each(md, func(key string, v float64, stale bool) {
		if !stale {
			out[key] = v
		}
	})
	return out
}

// Stale returns the keys of the staleness markers (points flagged NoRecordedValue) in md.
func Stale(md pmetric.Metrics) []string {
	var out []string
	each(md, func(key string, _ float64, stale bool) {
		if stale {
			out = append(out, key)
		}
	})
	sort.Strings(out)
	return out
}

// Apply updates state with one batch the way a Prometheus exporter does: a live point sets its
// series, a staleness marker deletes it. It returns state (a new map when state is nil).
func Apply(state map[string]float64, md pmetric.Metrics) map[string]float64 {
	if state == nil {
		state = map[string]float64{}
	}
	each(md, func(key string, v float64, stale bool) {
		if stale {
			delete(state, key)
			return
		}
		state[key] = v
	})
	return state
}

// each calls f for every gauge and sum data point of md, in order.
func each(md pmetric.Metrics, f func(key string, v float64, stale bool)) {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				default:
					continue
				}
				for d := 0; d < dps.Len(); d++ {
					dp := dps.At(d)
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					f(Key(m.Name(), dp.Attributes()), v, dp.Flags().NoRecordedValue())
				}
			}
		}
	}
}

// Key renders a series name; attrs are sorted by key.
func Key(name string, attrs pcommon.Map) string {
	labels := map[string]string{}
	attrs.Range(func(k string, v pcommon.Value) bool {
		labels[k] = v.AsString()
		return true
	})
	return Format(name, labels)
}

// Format renders name{k="v",...} with sorted keys, or just name without labels.
func Format(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// WithPrefix keeps the series whose name starts with prefix.
func WithPrefix(all map[string]float64, prefix string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range all {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}
