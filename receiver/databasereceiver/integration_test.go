package databasereceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/receiver/databasereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
)

const waitFor = 30 * time.Second

func clusterConfig(c *k8stest.Cluster) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 200 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.CheckTimeout = testTimeout
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: c.Kubeconfig, QPS: 50, Burst: 100}
	return cfg
}

func startReceiver(t *testing.T, cfg *Config) *consumertest.MetricsSink {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return sink
}

// connectivity is the newest emission's database.connectivity series and the "all" totals.
func connectivity(sink *consumertest.MetricsSink) map[string]float64 {
	all := sink.AllMetrics()
	if len(all) == 0 {
		return nil
	}
	got := series.Of(all[len(all)-1])
	out := series.WithPrefix(got, "database.connectivity")
	for _, k := range []string{`database.total{type="all"}`, `database.available{type="all"}`} {
		if v, ok := got[k]; ok {
			out[k] = v
		}
	}
	return out
}

func eventually(t *testing.T, sink *consumertest.MetricsSink, want map[string]float64) {
	t.Helper()
	if !assert.Eventually(t, func() bool { return assert.ObjectsAreEqual(want, connectivity(sink)) }, waitFor, 50*time.Millisecond) {
		t.Fatalf("series never became\n%v\nlast:\n%v", want, connectivity(sink))
	}
}

func createNamespace(t *testing.T, c *k8stest.Cluster, name string) {
	t.Helper()
	_, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
}

func createSecret(t *testing.T, c *k8stest.Cluster, s *corev1.Secret) {
	t.Helper()
	_, err := c.Client.CoreV1().Secrets(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{})
	require.NoError(t, err)
}

func addressData(a dbtest.Account, addr string) map[string]string {
	host, port, _ := splitEndpoint(addr)
	return map[string]string{keyUsername: a.User, keyPassword: a.Password, keyHost: host, keyPort: itoa(port)}
}

func conn(ns, db, engine, errorType string) string {
	return series.Format("database.connectivity", map[string]string{"namespace": ns, "database": db, "type": engine, "error_type": errorType})
}

func TestIntegrationSecretsAddedChangedDeleted(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	createNamespace(t, c, "ns-a")
	createNamespace(t, c, "ns-b")
	pg := dbtest.ConnectPostgres(t).CreateAccount(t, "integ", dbtest.SpecialPassword)
	my := dbtest.ConnectMySQL(t).CreateAccount(t, "integ", dbtest.SpecialPassword)
	fe := dbtest.StartFerretDB(t, "root", dbtest.SpecialPassword)

	// KubeBlocks ≤ 0.9 format, and the 1.x account format (another account of it is ignored).
	createSecret(t, c, secret("ns-a", "pg1-conn-credential", map[string]string{labelAppName: "postgresql"}, addressData(pg, dbtest.PostgresAddr)))
	createSecret(t, c, secret("ns-b", "my1-mysql-account-root", accountLabels("my1", "mysql", "root"), addressData(my, dbtest.MySQLAddr)))
	createSecret(t, c, secret("ns-b", "my1-mysql-account-kbprobe", accountLabels("my1", "mysql", "kbprobe"), addressData(my, dbtest.MySQLAddr)))
	createSecret(t, c, secret("ns-b", "unrelated", map[string]string{"app": "x"}, addressData(my, dbtest.MySQLAddr)))

	sink := startReceiver(t, clusterConfig(c))
	eventually(t, sink, map[string]float64{
		conn("ns-a", "pg1", "postgresql", ""): 1,
		conn("ns-b", "my1", "mysql", ""):      1,
		`database.total{type="all"}`:          2,
		`database.available{type="all"}`:      1 + 1,
	})

	// The password changes (wrong now), MySQL's Secret goes, a MongoDB one comes.
	s, err := c.Client.CoreV1().Secrets("ns-a").Get(ctx, "pg1-conn-credential", metav1.GetOptions{})
	require.NoError(t, err)
	s.Data[keyPassword] = []byte("wrong")
	_, err = c.Client.CoreV1().Secrets("ns-a").Update(ctx, s, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Client.CoreV1().Secrets("ns-b").Delete(ctx, "my1-mysql-account-root", metav1.DeleteOptions{}))
	createSecret(t, c, secret("ns-b", "mongo1-conn-credential", map[string]string{labelClusterType: "mongodb"},
		map[string]string{keyUsername: fe.User, keyPassword: fe.Password, keyEndpoint: fe.Addr}))
	eventually(t, sink, map[string]float64{
		conn("ns-a", "pg1", "postgresql", "auth_failed"): 0,
		conn("ns-b", "mongo1", "mongodb", ""):            1,
		`database.total{type="all"}`:                     2,
		`database.available{type="all"}`:                 1,
	})
	last := series.Of(sink.AllMetrics()[len(sink.AllMetrics())-1])
	assert.Equal(t, 1.0, last[`state_metric.collector.success{collector="database"}`])
	assert.Equal(t, 1.0, last[`database.unavailable{type="postgresql"}`])
	assert.NotContains(t, last, `database.total{type="mysql"}`, "per-type totals exist only for engines with databases")
}

func TestIntegrationNamespacesFilter(t *testing.T) {
	c := k8stest.StartT(t)
	createNamespace(t, c, "ns-a")
	createNamespace(t, c, "ns-b")
	rd := dbtest.ConnectRedis(t).CreateAccount(t, "integ", "pw")
	for _, ns := range []string{"ns-a", "ns-b"} {
		createSecret(t, c, secret(ns, "rd-conn-credential", map[string]string{labelClusterType: "redis"}, addressData(rd, dbtest.RedisAddr)))
	}
	cfg := clusterConfig(c)
	cfg.Namespaces = []string{"ns-b"}
	sink := startReceiver(t, cfg)
	eventually(t, sink, map[string]float64{
		conn("ns-b", "rd", "redis", ""):  1,
		`database.total{type="all"}`:     1,
		`database.available{type="all"}`: 1,
	})
}

func TestIntegrationNoDatabasesStillReportsAllTotals(t *testing.T) {
	c := k8stest.StartT(t)
	sink := startReceiver(t, clusterConfig(c))
	eventually(t, sink, map[string]float64{`database.total{type="all"}`: 0, `database.available{type="all"}`: 0})
}

func TestIntegrationPreflight(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	createNamespace(t, c, "ns")
	// No address in the Secret: the component Service pg-postgresql.ns.svc is dialled.
	createSecret(t, c, secret("ns", "pg-postgresql-account-postgres", accountLabels("pg", "postgresql", "postgres"), map[string]string{keyUsername: "u", keyPassword: "p"}))
	cfg := clusterConfig(c)
	cfg.Preflight = true
	sink := startReceiver(t, cfg)
	eventually(t, sink, map[string]float64{conn("ns", "pg", "postgresql", "no_service"): 0, `database.total{type="all"}`: 1, `database.available{type="all"}`: 0})

	_, err := c.Client.CoreV1().Services("ns").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "pg-postgresql"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	eventually(t, sink, map[string]float64{conn("ns", "pg", "postgresql", "no_endpoints"): 0, `database.total{type="all"}`: 1, `database.available{type="all"}`: 0})

	// A ready endpoint: the check dials the Service's name, which this machine cannot resolve.
	_, err = c.Client.DiscoveryV1().EndpointSlices("ns").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "pg-postgresql-1", Labels: map[string]string{discoveryv1.LabelServiceName: "pg-postgresql"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	eventually(t, sink, map[string]float64{conn("ns", "pg", "postgresql", "dns"): 0, `database.total{type="all"}`: 1, `database.available{type="all"}`: 0})
}

func TestIntegrationForbiddenSecretsAreNamedInTheCycleError(t *testing.T) {
	c := k8stest.StartT(t)
	kubeconfig, err := c.KubeconfigFor(t.TempDir(), "no-rights")
	require.NoError(t, err)
	cfg := clusterConfig(c)
	cfg.KubeConfigPath = kubeconfig
	cfg.SyncTimeout = 2 * time.Second
	s := newDatabaseSource(cfg, receiver.Settings{ID: component.NewID(metadata.Type), TelemetrySettings: componenttest.NewNopTelemetrySettings()})
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	ctx, cancel := context.WithCancel(context.Background())
	led := make(chan struct{})
	go func() { defer close(led); s.Lead(ctx, statereceivertest.NewTerm()) }()
	t.Cleanup(func() { cancel(); <-led })

	md, err := s.Collect(context.Background())
	require.ErrorContains(t, err, "secrets not listed within 2s")
	require.ErrorContains(t, err, `secrets is forbidden: User "no-rights" cannot list resource "secrets"`)
	assert.Equal(t, 0.0, series.Of(md)[`database.total{type="all"}`])
}
