package statereceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Self-metric names. Through the prometheus exporter with namespace "sealos" they read
// sealos_state_metric_collector_{duration_seconds,success,last_collection_timestamp}, the
// predecessor's framework series.
const (
	scopeName             = "github.com/labring/otelcol-sealos/internal/statereceiver"
	metricDuration        = "state_metric.collector.duration"
	metricSuccess         = "state_metric.collector.success"
	metricLastCollection  = "state_metric.collector.last_collection_timestamp"
	collectorAttribute    = "collector"
	unitSeconds           = "s"
	unitStatus            = "{status}"
	unitUnixTimestampSecs = "{unix_seconds}" // braces: no "_seconds" suffix, matching the documented name
)

type cycleInfo struct {
	collector   string
	at          time.Time
	took        time.Duration
	ok          bool
	lastSuccess time.Time
}

// appendSelfMetrics adds one cycle's self-metrics to md, in a resource and scope of their own.
func appendSelfMetrics(md pmetric.Metrics, c cycleInfo) {
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	ts := pcommon.NewTimestampFromTime(c.at)
	success := 0.0
	if c.ok {
		success = 1
	}
	gauge(sm, metricDuration, "Wall time of the receiver's last collection cycle.", unitSeconds, ts, c.collector, c.took.Seconds())
	gauge(sm, metricSuccess, "1 if the receiver's last collection cycle succeeded, 0 if it failed.", unitStatus, ts, c.collector, success)
	if !c.lastSuccess.IsZero() {
		gauge(sm, metricLastCollection, "Unix time in seconds of the receiver's last successful collection cycle.", unitUnixTimestampSecs, ts, c.collector, float64(c.lastSuccess.UnixNano())/1e9)
	}
}

func gauge(sm pmetric.ScopeMetrics, name, description, unit string, ts pcommon.Timestamp, collector string, value float64) {
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetDescription(description)
	m.SetUnit(unit)
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetDoubleValue(value)
	dp.Attributes().PutStr(collectorAttribute, collector)
}
