package userbalancereceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
	"github.com/labring/otelcol-sealos/receiver/userbalancereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
	ubt "github.com/labring/otelcol-sealos/test/userbalancetest"
)

const waitFor = 30 * time.Second

const (
	aliceBalance = `userbalance.balance{level="P0",owner="ops",region="hzh",type="main",uid="u-alice",uuid="uuid-a"}`
	success      = `state_metric.collector.success{collector="userbalance"}`
)

func fastConfig(dsn string) *Config {
	cfg := sampleConfig(dsn)
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.QueryTimeout = 2 * time.Second
	return cfg
}

func startReceiver(t *testing.T, cfg *Config, host component.Host) *consumertest.MetricsSink {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return sink
}

// last is the newest emission's series.
func last(sink *consumertest.MetricsSink) map[string]float64 {
	all := sink.AllMetrics()
	if len(all) == 0 {
		return nil
	}
	return series.Of(all[len(all)-1])
}

// eventually waits until the newest emission satisfies ok.
func eventually(t *testing.T, sink *consumertest.MetricsSink, what string, ok func(map[string]float64) bool) {
	t.Helper()
	if !assert.Eventually(t, func() bool { return ok(last(sink)) }, waitFor, 50*time.Millisecond) {
		t.Fatalf("never saw %s; last emission:\n%v", what, last(sink))
	}
}

func reports(balance float64) func(map[string]float64) bool {
	return func(s map[string]float64) bool {
		v, ok := s[aliceBalance]
		return ok && v == balance && s[success] == 1
	}
}

func failing(s map[string]float64) bool {
	v, ok := s[success]
	return ok && v == 0 && len(series.WithPrefix(s, "userbalance.")) == 0
}

// The receiver starts while its database refuses connections (the predecessor did not start),
// reports success 0, and recovers without a restart. The DSN comes from the environment.
func TestIntegrationStartsWhileTheDatabaseIsDown(t *testing.T) {
	db := ubt.CreateT(t, sampleUsers...)
	ctx := context.Background()
	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), false))
	t.Cleanup(func() { _ = db.AllowConnections(context.Background(), ubt.AdminDSN(), true) })
	t.Setenv("UB_TEST_DSN", db.DSN)
	cfg := fastConfig("")
	cfg.DSNEnv = "UB_TEST_DSN"

	sink := startReceiver(t, cfg, componenttest.NewNopHost())
	eventually(t, sink, "a failed cycle", failing)

	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), true))
	eventually(t, sink, "alice's balance", reports(12000))

	// Down again (every connection ended), then back: the series stop and come back.
	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), false))
	eventually(t, sink, "a failed cycle", failing)
	require.NoError(t, db.AllowConnections(ctx, ubt.AdminDSN(), true))
	eventually(t, sink, "alice's balance", reports(12000))
}

func TestStartFailsWithoutTheDSNEnvironmentVariable(t *testing.T) {
	cfg := fastConfig("")
	cfg.DSNEnv = "UB_TEST_DSN_UNSET"
	set := receivertest.NewNopSettings(metadata.Type)
	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	require.ErrorContains(t, r.Start(context.Background(), componenttest.NewNopHost()), "dsn_env: environment variable UB_TEST_DSN_UNSET is not set or empty")
	require.NoError(t, r.Shutdown(context.Background()))
}

// The DSN comes from a Secret in a real API server, read each cycle: a rotated Secret is followed,
// a deleted one fails the cycle.
func TestIntegrationDSNFromSecret(t *testing.T) {
	c := k8stest.StartT(t)
	first := ubt.CreateT(t, sampleUsers...)
	second := ubt.CreateT(t, ubt.User{ID: "u-alice", Balance: ubt.Amount(42_000_000)})
	ctx := context.Background()
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "account-db"},
		Data:       map[string][]byte{"dsn": []byte(first.DSN)},
	}
	_, err = c.Client.CoreV1().Secrets("billing").Create(ctx, secret, metav1.CreateOptions{})
	require.NoError(t, err)

	cfg := fastConfig("")
	cfg.DSNSecret = &SecretRef{Namespace: "billing", Name: "account-db", Key: "dsn"}
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: c.Kubeconfig, QPS: 50, Burst: 100}
	sink := startReceiver(t, cfg, componenttest.NewNopHost())
	eventually(t, sink, "alice's balance from the first database", reports(12000))

	secret.Data["dsn"] = []byte(second.DSN)
	_, err = c.Client.CoreV1().Secrets("billing").Update(ctx, secret, metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, sink, "alice's balance from the second database", reports(42))

	require.NoError(t, c.Client.CoreV1().Secrets("billing").Delete(ctx, "account-db", metav1.DeleteOptions{}))
	eventually(t, sink, "a failed cycle", failing)
}

// With k8s_leader_elector, a follower never queries and emits nothing.
func TestIntegrationLeaderGating(t *testing.T) {
	db := ubt.CreateT(t, sampleUsers...)
	electorID := component.MustNewIDWithName("k8s_leader_elector", "test")
	elector := &leadergatetest.FakeElector{}
	cfg := fastConfig(db.DSN)
	cfg.K8sLeaderElector = &electorID

	sink := startReceiver(t, cfg, leadergatetest.NewHost(electorID, elector))
	time.Sleep(300 * time.Millisecond) // several collection intervals
	require.Empty(t, sink.AllMetrics(), "a follower emitted")
	elector.BecomeLeader()
	eventually(t, sink, "alice's balance once leading", reports(12000))
	elector.LoseLeadership()
	require.Eventually(t, func() bool {
		var state map[string]float64
		for _, md := range sink.AllMetrics() {
			state = series.Apply(state, md)
		}
		return len(state) == 0
	}, waitFor, 20*time.Millisecond, "a replica that lost the lease must leave no series behind")
	n := len(sink.AllMetrics())
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, sink.AllMetrics(), n, "a replica that lost the lease still emits")
}
