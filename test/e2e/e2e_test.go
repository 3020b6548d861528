// Package e2e runs the real otelcol-sealos binary against a real API server.
package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the collector compresses OTLP with gzip
	corev1 "k8s.io/api/core/v1"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

const waitFor = 60 * time.Second

// pipeline is a collector config: the node receiver reading the test cluster, into one exporter.
type pipeline struct {
	receiverExtra string // more keys under receivers.node, each line indented by 4
	exporter      string // the exporter's id in the pipeline
	exporters     string // the exporters: block, each line indented by 2
	extension     string // the extension's id in service.extensions; "" for none
	extensions    string // the extensions: block, each line indented by 2
}

func (p pipeline) write(t *testing.T, kubeconfig string) string {
	t.Helper()
	extensions, serviceExtensions := "", ""
	if p.extension != "" {
		extensions = "extensions:\n" + p.extensions
		serviceExtensions = "  extensions: [" + p.extension + "]\n"
	}
	return writeConfig(t, fmt.Sprintf(`receivers:
  node:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 200ms
    ignore_new_node_duration: 0s
%s
exporters:
%s
%s
service:
%s  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [node]
      exporters: [%s]
`, kubeconfig, p.receiverExtra, p.exporters, extensions, serviceExtensions, p.exporter))
}

// sampleSeries is what createSampleNodes yields; name maps an OTel metric name to its exported name.
func sampleSeries(name func(string) string) map[string]float64 {
	return map[string]float64{
		name("node.healthy") + `{node="node-healthy"}`:                                            1,
		name("node.healthy") + `{node="node-notready"}`:                                           0,
		name("node.healthy") + `{node="node-pressured"}`:                                          0,
		name("node.condition") + `{condition="Ready",node="node-notready",status="false"}`:        0,
		name("node.condition") + `{condition="DiskPressure",node="node-pressured",status="true"}`: 1,
	}
}

// prometheusName is the exporter's name for an OTel metric with namespace sealos and a unitless gauge.
func prometheusName(otel string) string { return "sealos_" + strings.ReplaceAll(otel, ".", "_") }

func otlpName(otel string) string { return otel }

// exportedThroughPrometheus completes a config that has only its receivers: block: every receiver
// in ids goes through the prometheus exporter on 127.0.0.1:port with the predecessor's names
// (namespace sealos, no scope labels); expiration > 0 sets metric_expiration.
func exportedThroughPrometheus(receivers string, port int, expiration time.Duration, ids ...string) string {
	expire := ""
	if expiration > 0 {
		expire = "    metric_expiration: " + expiration.String() + "\n"
	}
	return receivers + fmt.Sprintf(`exporters:
  prometheus:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
%sservice:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [%s]
      exporters: [prometheus]
`, port, expire, strings.Join(ids, ", "))
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func createSampleNodes(t *testing.T, c *k8stest.Cluster) {
	t.Helper()
	ctx := context.Background()
	for name, conds := range map[string][]k8stest.Condition{
		"node-healthy":   k8stest.Healthy,
		"node-notready":  {{Type: corev1.NodeReady, Status: corev1.ConditionFalse}},
		"node-pressured": {{Type: corev1.NodeReady, Status: corev1.ConditionTrue}, {Type: corev1.NodeDiskPressure, Status: corev1.ConditionTrue}},
	} {
		_, err := k8stest.CreateNode(ctx, c.Client, name, conds)
		require.NoError(t, err)
	}
}

func TestPrometheusExporterServesPredecessorSeries(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	port := otelcoltest.FreePort(t)
	cfg := pipeline{exporter: "prometheus", exporters: fmt.Sprintf(`  prometheus:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true`, port)}.write(t, c.Kubeconfig)
	col := otelcoltest.Start(t, cfg)

	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	want := sampleSeries(prometheusName)
	var got map[string]float64
	ok := assert.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return false
		}
		got = all
		return assert.ObjectsAreEqual(want, series.WithPrefix(all, "sealos_node_"))
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "node series: %v\ncollector exited: %v", series.WithPrefix(got, "sealos_node_"), col.Exited())

	// The predecessor's framework self-metrics, under their documented names.
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="node"}`])
	assert.Contains(t, got, `sealos_state_metric_collector_duration_seconds{collector="node"}`)
	lastCollection := got[`sealos_state_metric_collector_last_collection_timestamp{collector="node"}`]
	assert.InDelta(t, float64(time.Now().Unix()), lastCollection, 30)
	// Nothing else leaks into the series: no scope labels, no stray receiver output.
	for name := range got {
		assert.True(t, strings.HasPrefix(name, "sealos_node_") || strings.HasPrefix(name, "sealos_state_metric_collector_"), "unexpected series %s", name)
	}
}

// otlpSink is a gRPC OTLP metrics server that keeps what it receives.
type otlpSink struct {
	pmetricotlp.UnimplementedGRPCServer
	mu   sync.Mutex
	last pmetric.Metrics
	n    int
}

func (s *otlpSink) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	md := pmetric.NewMetrics()
	req.Metrics().CopyTo(md)
	if len(series.WithPrefix(series.Of(md), "node.")) > 0 {
		s.last, s.n = md, s.n+1
	}
	return pmetricotlp.NewExportResponse(), nil
}

func (s *otlpSink) nodeSeries() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return nil
	}
	return series.WithPrefix(series.Of(s.last), "node.")
}

func TestOTLPExporterPushesNodeMetrics(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	sink := &otlpSink{}
	pmetricotlp.RegisterGRPCServer(srv, sink)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	cfg := pipeline{exporter: "otlp_grpc", exporters: fmt.Sprintf(`  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true`, lis.Addr())}.write(t, c.Kubeconfig)
	col := otelcoltest.Start(t, cfg)

	want := sampleSeries(otlpName)
	ok := assert.Eventually(t, func() bool { return assert.ObjectsAreEqual(want, sink.nodeSeries()) }, waitFor, 200*time.Millisecond)
	require.True(t, ok, "received: %v\ncollector exited: %v", sink.nodeSeries(), col.Exited())
}

func TestBrokenConfigExitsNamingTheKey(t *testing.T) {
	tests := map[string]struct{ receiver, want string }{
		"unknown key":       {"node:\n    bogus_key: 1", "bogus_key"},
		"negative duration": {"node:\n    ignore_new_node_duration: -5m", "ignore_new_node_duration: must not be negative"},
		"bad auth type":     {"node:\n    auth_type: token", `auth_type: "token" is not one of`},
		"missing elector":   {"node:\n    auth_type: none\n    k8s_leader_elector: k8s_leader_elector/nope", "k8s_leader_elector"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := writeConfig(t, fmt.Sprintf(`
receivers:
  %s
exporters:
  debug:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [node]
      exporters: [debug]
`, tt.receiver))
			t.Setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
			t.Setenv("KUBERNETES_SERVICE_PORT", "1")
			col := otelcoltest.Start(t, cfg)
			code, err := col.Wait(30 * time.Second)
			require.NoError(t, err, "output:\n%s", col.Output())
			assert.NotZero(t, code)
			assert.Contains(t, col.Output(), tt.want)
		})
	}
}
