package leaderelectionextension

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

const (
	waitFor = 30 * time.Second
	tick    = 20 * time.Millisecond
	// Short durations keep the tests quick; the defaults (15s/10s/2s) are measured in the e2e benchmark.
	testLease = 4 * time.Second
	testRenew = 3 * time.Second
	testRetry = time.Second
)

// startReplica starts an elector as one collector replica would, with its own identity.
func startReplica(t *testing.T, c *k8stest.Cluster, identity string) (*elector, *counter) {
	t.Helper()
	e := testElector(t, "it", identity)
	e.cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: c.Kubeconfig, QPS: 50, Burst: 100}
	e.cfg.LeaseNamespace = "default"
	e.cfg.LeaseDuration, e.cfg.RenewDeadline, e.cfg.RetryPeriod = testLease, testRenew, testRetry
	cb := &counter{}
	cb.register(e)
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.Shutdown(context.Background())) })
	return e, cb
}

func leaseHolder(t *testing.T, c *k8stest.Cluster) string {
	t.Helper()
	lease, err := c.Client.CoordinationV1().Leases("default").Get(context.Background(), "otelcol-sealos-it", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return ptr.Deref(lease.Spec.HolderIdentity, "")
}

// leaders waits until exactly one of es leads and returns it and the other.
func oneLeads(t *testing.T, a, b *elector) (leader, follower *elector) {
	t.Helper()
	require.Eventually(t, func() bool { return a.Leading() != b.Leading() }, waitFor, tick, "exactly one replica should lead")
	if a.Leading() {
		return a, b
	}
	return b, a
}

func TestTwoReplicasExactlyOneLeadsAndGracefulHandover(t *testing.T) {
	c := k8stest.StartT(t)
	a, ca := startReplica(t, c, "replica-a")
	b, cb := startReplica(t, c, "replica-b")

	leader, follower := oneLeads(t, a, b)
	require.Never(t, func() bool { return a.Leading() == b.Leading() }, 2*testRetry, tick, "both or neither led while the leader renews")
	assert.Equal(t, leader.identity, leaseHolder(t, c))
	require.Eventually(t, func() bool { return follower.Holder() == leader.identity }, waitFor, tick, "the follower sees who holds the lease")
	assert.EqualValues(t, 1, ca.starts.Load()+cb.starts.Load(), "only the leader's receivers started")

	// A graceful stop releases the lease: the follower takes over well before the lease would expire.
	stopped := time.Now()
	require.NoError(t, leader.Shutdown(context.Background()))
	require.Eventually(t, follower.Leading, testLease, tick, "the follower did not take over before the old lease would have expired")
	t.Logf("handover after graceful shutdown: %s", time.Since(stopped))
	assert.Equal(t, follower.identity, leaseHolder(t, c))
	assert.EqualValues(t, 1, ca.stops.Load()+cb.stops.Load(), "the old leader's receivers were stopped")
}

func TestReloadReacquiresItsOwnLease(t *testing.T) {
	c := k8stest.StartT(t)
	first, _ := startReplica(t, c, "replica-a")
	require.Eventually(t, first.Leading, waitFor, tick)
	follower, _ := startReplica(t, c, "replica-b")
	require.Eventually(t, func() bool { return follower.Holder() == "replica-a" }, waitFor, tick)

	for round := range 3 {
		// A reload: the old instance shuts down, a new one with the same identity starts at once.
		require.NoError(t, first.Shutdown(context.Background()))
		restarted := time.Now()
		first, _ = startReplica(t, c, "replica-a")
		require.Eventually(t, first.Leading, testRetry, tick, "round %d: the reloaded replica should take its own lease back at once", round)
		t.Logf("round %d: re-acquired after %s", round, time.Since(restarted))
		assert.False(t, follower.Leading(), "round %d: the follower must not have taken the lease", round)
		assert.Equal(t, "replica-a", leaseHolder(t, c))
	}
}

func TestRecampaignsAfterLosingTheLease(t *testing.T) {
	c := k8stest.StartT(t)
	e, cb := startReplica(t, c, "replica-a")
	require.Eventually(t, e.Leading, waitFor, tick)

	// Another identity steals the lease (as a replica that saw it expire during a network partition would).
	leases := c.Client.CoordinationV1().Leases("default")
	// The leader renews concurrently: retry the read-modify-write on conflict as any client would.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		lease, err := leases.Get(context.Background(), "otelcol-sealos-it", metav1.GetOptions{})
		if err != nil {
			return err
		}
		lease.Spec.HolderIdentity = ptr.To("thief")
		lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		lease.Spec.LeaseDurationSeconds = ptr.To(int32(testLease / time.Second))
		_, err = leases.Update(context.Background(), lease, metav1.UpdateOptions{})
		return err
	})
	require.NoError(t, err)

	require.Eventually(t, func() bool { return !e.Leading() }, waitFor, tick, "the elector should notice it lost the lease")
	assert.EqualValues(t, 1, cb.stops.Load())
	assert.Equal(t, "thief", e.Holder())

	// The thief never renews: the elector campaigns again and wins once the stolen lease expires.
	require.Eventually(t, e.Leading, waitFor, tick, "the elector never re-campaigned")
	assert.EqualValues(t, 2, cb.starts.Load())
	assert.Equal(t, "replica-a", leaseHolder(t, c))
}

func TestDeletedLeaseIsRecreated(t *testing.T) {
	c := k8stest.StartT(t)
	e, _ := startReplica(t, c, "replica-a")
	require.Eventually(t, e.Leading, waitFor, tick)
	require.NoError(t, c.Client.CoordinationV1().Leases("default").Delete(context.Background(), "otelcol-sealos-it", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool { return leaseHolder(t, c) == "replica-a" }, waitFor, tick, "the leader should recreate its lease")
}
