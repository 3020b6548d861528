package prometheusstateexporter

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/xconfmap"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// options is the configuration applied identically to both exporters under comparison.
type options struct {
	namespace        string
	constLabels      map[string]string
	expiration       time.Duration
	resourceToLabels bool
	withScopeInfo    bool
	sendTimestamps   bool
	writeTimeout     time.Duration // confighttp's default is 30s; benchmarks raise it
}

// running is one started exporter and its /metrics URL.
type running struct {
	exp exporter.Metrics
	url string
}

func freeEndpoint(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func startExporter(t testing.TB, f exporter.Factory, cfg component.Config, endpoint string) *running {
	exp, err := f.CreateMetrics(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return &running{exp: exp, url: "http://" + endpoint + "/metrics"}
}

// startOurs starts a prometheus_state exporter with o.
func startOurs(t testing.TB, o options) *running { return startWith(t, NewFactory(), o) }

// startContrib starts the contrib prometheus exporter v0.155.0 with o.
func startContrib(t testing.TB, o options) *running {
	return startWith(t, prometheusexporter.NewFactory(), o)
}

// startWith configures the exporter through its config keys, the same keys for both exporters (the
// drop-in claim), and starts it on a free loopback port.
func startWith(t testing.TB, f exporter.Factory, o options) *running {
	endpoint := freeEndpoint(t)
	keys := map[string]any{
		"endpoint":                         endpoint,
		"namespace":                        o.namespace,
		"resource_to_telemetry_conversion": map[string]any{"enabled": o.resourceToLabels},
		"without_scope_info":               !o.withScopeInfo,
		"send_timestamps":                  o.sendTimestamps,
	}
	if o.constLabels != nil {
		keys["const_labels"] = o.constLabels
	}
	if o.expiration > 0 {
		keys["metric_expiration"] = o.expiration
	}
	if o.writeTimeout > 0 {
		keys["write_timeout"] = o.writeTimeout
	}
	cfg := f.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(keys).Unmarshal(cfg))
	require.NoError(t, xconfmap.Validate(cfg))
	return startExporter(t, f, cfg, endpoint)
}

// feed sends a copy of md (exporters may mutate their input).
func (r *running) feed(t testing.TB, md pmetric.Metrics) {
	c := pmetric.NewMetrics()
	md.CopyTo(c)
	require.NoError(t, r.exp.ConsumeMetrics(context.Background(), c))
}

// scrapeRaw GETs /metrics; gzip asks for a compressed body and checks it is compressed.
func scrapeRaw(t testing.TB, url string, gz bool) string {
	req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
	require.NoError(t, err)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	// A transport of its own: DisableCompression so we see the raw encoding.
	client := http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body io.Reader = resp.Body
	if gz {
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), "gzip was asked for")
		zr, err := gzip.NewReader(resp.Body)
		require.NoError(t, err)
		body = zr
	} else {
		require.Empty(t, resp.Header.Get("Content-Encoding"), "gzip was not asked for")
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return string(b)
}

// families parses an exposition with expfmt and renders each family canonically (series sorted),
// leaving out our self-metrics, so two exporters' outputs compare as data, not as bytes.
func families(t testing.TB, text string) map[string]string {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err, text)
	out := map[string]string{}
	for name, fam := range fams {
		if strings.HasPrefix(name, "prometheus_state_exporter_") {
			continue
		}
		slices.SortFunc(fam.Metric, func(a, b *dto.Metric) int { return strings.Compare(labelString(a), labelString(b)) })
		var sb strings.Builder
		_, err := expfmt.MetricFamilyToText(&sb, fam)
		require.NoError(t, err)
		out[name] = sb.String()
	}
	return out
}

func labelString(m *dto.Metric) string {
	parts := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// selfMetric reads one of our self-metrics' samples from an exposition.
func selfMetric(t testing.TB, text, name, reason string) float64 {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err)
	fam, ok := fams[name]
	require.True(t, ok, "self-metric %s missing", name)
	for _, m := range fam.GetMetric() {
		match := reason == ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" && l.GetValue() == reason {
				match = true
			}
		}
		if match {
			if fam.GetType() == dto.MetricType_COUNTER {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("self-metric %s{reason=%q} missing", name, reason)
	return 0
}

func settings(f exporter.Factory) exporter.Settings { return exportertest.NewNopSettings(f.Type()) }
