package prometheusstateexporter

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Two producers (resources without service attributes) writing the same series: contrib's
// registry reports a collision; we keep the last write, answer 200 and count it.
func TestDuplicateSeriesLastWriteWins(t *testing.T) {
	r := startOurs(t, options{})
	md := pmetric.NewMetrics()
	point(gauge(newScope(md, map[string]any{"k8s.pod.name": "a"}), "g", "", "gauge"), 1, t1, map[string]any{"k": "same"})
	point(gauge(newScope(md, map[string]any{"k8s.pod.name": "b"}), "g", "", "gauge"), 2, t1, map[string]any{"k": "same"})
	r.feed(t, md)
	text := scrapeRaw(t, r.url, false)
	require.Equal(t, map[string]string{"g": "# HELP g gauge\n# TYPE g gauge\ng{k=\"same\"} 2\n"}, families(t, text))
	require.Equal(t, 1.0, selfMetric(t, text, "prometheus_state_exporter_duplicate_series_total", ""))
	require.Equal(t, 1.0, selfMetric(t, text, "prometheus_state_exporter_series", ""))

	// The same producer again is an update, not a duplicate.
	md = pmetric.NewMetrics()
	point(gauge(newScope(md, map[string]any{"k8s.pod.name": "b"}), "g", "", "gauge"), 3, t2, map[string]any{"k": "same"})
	r.feed(t, md)
	text = scrapeRaw(t, r.url, true)
	require.Contains(t, families(t, text)["g"], `g{k="same"} 3`)
	require.Equal(t, 1.0, selfMetric(t, text, "prometheus_state_exporter_duplicate_series_total", ""))
}

// Exponential histograms have no text-format representation we can serve faithfully: they are
// dropped, counted and logged, and never produce output; the rest of the batch is served.
func TestUnsupportedAndConflictingAreDroppedAndCounted(t *testing.T) {
	r := startOurs(t, options{})
	md := pmetric.NewMetrics()
	sm := newScope(md, map[string]any{})
	eh := sm.Metrics().AppendEmpty()
	eh.SetName("latency")
	eh.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	eh.ExponentialHistogram().DataPoints().AppendEmpty().SetCount(3)
	eh.ExponentialHistogram().DataPoints().AppendEmpty().SetCount(4)
	point(gauge(sm, "x", "", "first: gauge"), 1, t1, nil)
	histogram(sm, "x", pmetric.AggregationTemporalityCumulative, 0, t1, nil, []uint64{1}, 1, 1, nil)
	sm.Metrics().At(sm.Metrics().Len() - 1).SetUnit("") // same Prometheus name "x", other type
	r.feed(t, md)
	text := scrapeRaw(t, r.url, false)
	fams := families(t, text)
	require.NotContains(t, fams, "latency")
	require.NotContains(t, fams, "latency_seconds")
	require.Equal(t, "# HELP x first: gauge\n# TYPE x gauge\nx 1\n", fams["x"])
	require.Equal(t, 2.0, selfMetric(t, text, "prometheus_state_exporter_dropped_points_total", "unsupported_type"))
	require.Equal(t, 1.0, selfMetric(t, text, "prometheus_state_exporter_dropped_points_total", "type_conflict"))
}

func TestOnlyMetricsPath(t *testing.T) {
	r := startOurs(t, options{})
	resp, err := http.Get(r.url[:len(r.url)-len("/metrics")] + "/other")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestShutdownWithoutStartAndTwice(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = freeEndpoint(t)
	exp, err := f.CreateMetrics(context.Background(), settings(f), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Shutdown(context.Background()))
	require.NoError(t, exp.Shutdown(context.Background()))
}

// The compressed exposition is built once per change: scrapes in between get the same buffer.
func TestGzipBodyIsReusedUntilSomethingChanges(t *testing.T) {
	e := newStateExporter(createDefaultConfig().(*Config), componenttest.NewNopTelemetrySettings())
	md := pmetric.NewMetrics()
	point(gauge(newScope(md, map[string]any{}), "g", "", "gauge"), 1, t1, nil)
	require.NoError(t, e.consume(context.Background(), md))
	first := e.gzipped()
	require.Same(t, &first[0], &e.gzipped()[0], "an unchanged store recompressed")

	md = pmetric.NewMetrics()
	point(gauge(newScope(md, map[string]any{}), "g", "", "gauge"), 2, t2, nil)
	require.NoError(t, e.consume(context.Background(), md))
	second := e.gzipped()
	require.NotSame(t, &first[0], &second[0], "a change must be recompressed")
	zr, err := gzip.NewReader(bytes.NewReader(second))
	require.NoError(t, err)
	text, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Contains(t, families(t, string(text))["g"], "} 2\n")
}
