package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
	"github.com/labring/otelcol-sealos/test/tlstest"
)

// staleConfig feeds node, database, crds and domain into both Prometheus exporters with an hour
// of metric_expiration: any series that outlives its state is the receivers' doing, not expiry's.
const staleConfig = `receivers:
  node:
    auth_type: kubeConfig
    kubeconfig_path: %[1]s
    collection_interval: 300ms
    initial_delay: 0s
    ignore_new_node_duration: 0s
  database:
    auth_type: kubeConfig
    kubeconfig_path: %[1]s
    collection_interval: 300ms
    initial_delay: 0s
    check_timeout: 2s
    namespaces: [ns-stale]
  crds:
    auth_type: kubeConfig
    kubeconfig_path: %[1]s
    collection_interval: 300ms
    initial_delay: 0s
    crds:
      - name: kubeblocks-cluster
        gvr: {group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}
        common_labels: {name: metadata.name, namespace: metadata.namespace}
        metrics:
          - {type: string_state, name: kubeblocks_cluster_status, help: phase, path: status.phase}
  domain:
    collection_interval: 300ms
    initial_delay: 0s
    timeout: 2s
    ipv6: false
    ca_file: %[2]s
    targets: [127.0.0.1:%[3]d]
exporters:
  prometheus:
    endpoint: 127.0.0.1:%[4]d
    namespace: sealos
    without_scope_info: true
    metric_expiration: 1h
  prometheus_state:
    endpoint: 127.0.0.1:%[5]d
    namespace: sealos
    without_scope_info: true
    metric_expiration: 1h
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [node, database, crds, domain]
      exporters: [prometheus, prometheus_state]
`

// TestStaleSeriesVanishWithinACycle changes the state under every receiver and requires both
// exporters to hold exactly the new state's series: a database that recovers, a node condition
// that recovers, a custom object deleted, a domain whose reason changes.
func TestStaleSeriesVanishWithinACycle(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	require.NoError(t, c.InstallCRDs(crdsTestdata+"cluster.yaml"))
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-stale"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	sick, err := k8stest.CreateNode(ctx, c.Client, "node-sick", []k8stest.Condition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}})
	require.NoError(t, err)
	redis := dbtest.ConnectRedis(t).CreateAccount(t, "stale", "pw-stale")
	closed := fmt.Sprintf("127.0.0.1:%d", dbtest.ClosedPort(t))
	databaseSecret(t, c, "ns-stale", "cache", map[string]string{"apps.kubeblocks.io/cluster-type": "redis"}, dbtest.Account{User: redis.User, Password: redis.Password}, closed)
	crdsCreateCluster(t, c, "db-1", "ns-stale", "Running")
	crdsCreateCluster(t, c, "db-2", "ns-stale", "Creating")
	ca := tlstest.NewCA(t)
	domainPort := otelcoltest.FreePort(t) // nothing listens yet: connection refused

	promPort, statePort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	cfg := writeConfig(t, fmt.Sprintf(staleConfig, c.Kubeconfig, writeCAFile(t, ca), domainPort, promPort, statePort))
	col := otelcoltest.Start(t, cfg)
	endpoints := map[string]string{
		"prometheus":       fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort),
		"prometheus_state": fmt.Sprintf("http://127.0.0.1:%d/metrics", statePort),
	}

	db := func(errorType string, up float64) map[string]float64 {
		return map[string]float64{series.Format("sealos_database_connectivity", map[string]string{"namespace": "ns-stale", "database": "cache", "type": "redis", "error_type": errorType}): up}
	}
	dom := func(errorType string, up float64) map[string]float64 {
		out := map[string]float64{}
		for _, check := range []string{"http", "cert"} {
			out[series.Format("sealos_domain_status", map[string]string{"domain": fmt.Sprintf("127.0.0.1:%d", domainPort), "ip": "127.0.0.1", "check_type": check, "error_type": errorType})] = up
		}
		return out
	}
	before := merge(
		map[string]float64{
			`sealos_node_condition{condition="Ready",node="node-sick",status="false"}`:            0,
			`sealos_kubeblocks_cluster_status{name="db-1",namespace="ns-stale",state="Running"}`:  1,
			`sealos_kubeblocks_cluster_status{name="db-2",namespace="ns-stale",state="Creating"}`: 1,
		},
		db("connection_refused", 0), dom("connection_refused", 0))
	requireExactly(t, col, endpoints, before)

	// The state changes under every receiver at once.
	_, err = k8stest.SetConditions(ctx, c.Client, sick, k8stest.Healthy)
	require.NoError(t, err)
	secret, err := c.Client.CoreV1().Secrets("ns-stale").Get(ctx, "cache-conn-credential", metav1.GetOptions{})
	require.NoError(t, err)
	host, port, _ := strings.Cut(dbtest.RedisAddr, ":")
	secret.Data["host"], secret.Data["port"] = []byte(host), []byte(port)
	_, err = c.Client.CoreV1().Secrets("ns-stale").Update(ctx, secret, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Dynamic.Resource(crdsClustersGVR).Namespace("ns-stale").Delete(ctx, "db-2", metav1.DeleteOptions{}))
	serveTLSAt(t, fmt.Sprintf("127.0.0.1:%d", domainPort), ca)

	requireExactly(t, col, endpoints, merge(
		map[string]float64{`sealos_kubeblocks_cluster_status{name="db-1",namespace="ns-stale",state="Running"}`: 1},
		db("", 1), dom("", 1)))
}

// requireExactly waits until every endpoint serves exactly want among the series it is about
// (conditions, connectivity, cluster status, domain status).
func requireExactly(t *testing.T, col *otelcoltest.Process, endpoints map[string]string, want map[string]float64) {
	t.Helper()
	for name, url := range endpoints {
		var got map[string]float64
		ok := assertEventually(func() bool {
			all, err := otelcoltest.Scrape(url)
			if err != nil {
				return false
			}
			got = map[string]float64{}
			for _, prefix := range []string{"sealos_node_condition", "sealos_database_connectivity", "sealos_kubeblocks_cluster_status", "sealos_domain_status"} {
				for k, v := range series.WithPrefix(all, prefix) {
					got[k] = v
				}
			}
			return fmt.Sprint(got) == fmt.Sprint(want)
		})
		require.True(t, ok, "%s never held exactly\n%v\nit holds\n%v\ncollector exited: %v", name, want, got, col.Exited())
	}
}

func assertEventually(cond func() bool) bool {
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func merge(maps ...map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func writeCAFile(t *testing.T, ca *tlstest.CA) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, ca.PEM(), 0o600))
	return path
}

// serveTLSAt serves 200 on addr with a certificate for 127.0.0.1 issued by ca, until the test ends.
func serveTLSAt(t *testing.T, addr string, ca *tlstest.CA) {
	t.Helper()
	files := ca.Issue(t, "stale-test")
	cert, err := tls.X509KeyPair(files["tls.crt"], files["tls.key"])
	require.NoError(t, err)
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
}

// TestOTLPCarriesStalenessMarkers pushes over OTLP, where no scrape can forget a series: when a
// node recovers, its condition series arrives once more flagged NoRecordedValue, exactly once.
func TestOTLPCarriesStalenessMarkers(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	sick, err := k8stest.CreateNode(ctx, c.Client, "node-sick", []k8stest.Condition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}})
	require.NoError(t, err)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	sink := &otlpBatches{}
	pmetricotlp.RegisterGRPCServer(srv, sink)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cfg := pipeline{exporter: "otlp_grpc", exporters: fmt.Sprintf(`  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true`, lis.Addr())}.write(t, c.Kubeconfig)
	col := otelcoltest.Start(t, cfg)

	condition := `node.condition{condition="Ready",node="node-sick",status="false"}`
	require.True(t, assertEventually(func() bool { _, ok := sink.state()[condition]; return ok }), "never received %s\n%s", condition, col.Output())
	_, err = k8stest.SetConditions(ctx, c.Client, sick, k8stest.Healthy)
	require.NoError(t, err)
	require.True(t, assertEventually(func() bool { _, ok := sink.state()[condition]; return !ok }), "the recovered condition was never marked stale")
	n := sink.count()
	require.True(t, assertEventually(func() bool { return sink.count() >= n+5 }), "the collector stopped pushing")
	assert.Equal(t, 1, sink.markers(condition), "a stale series is marked exactly once")
}

// otlpBatches is a gRPC OTLP metrics server that keeps every batch it receives.
type otlpBatches struct {
	pmetricotlp.UnimplementedGRPCServer
	mu      sync.Mutex
	batches []pmetric.Metrics
}

func (s *otlpBatches) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	md := pmetric.NewMetrics()
	req.Metrics().CopyTo(md)
	s.mu.Lock()
	s.batches = append(s.batches, md)
	s.mu.Unlock()
	return pmetricotlp.NewExportResponse(), nil
}

func (s *otlpBatches) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batches)
}

// state is what a backend honouring the flag holds after every batch so far.
func (s *otlpBatches) state() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var state map[string]float64
	for _, md := range s.batches {
		state = series.Apply(state, md)
	}
	return state
}

// markers counts the batches that mark key stale.
func (s *otlpBatches) markers(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, md := range s.batches {
		for _, k := range series.Stale(md) {
			if k == key {
				n++
			}
		}
	}
	return n
}
