package leaderelectionextension

import (
	"context"
	"slices"
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
	return startReplicaWith(t, c.Kubeconfig, identity, func(*Config) {})
}

// startReplicaWith starts a replica talking to the API server through kubeconfig, with the test
// durations changed by configure.
func startReplicaWith(t *testing.T, kubeconfig, identity string, configure func(*Config)) (*elector, *counter) {
	t.Helper()
	e := testElector(t, "it", identity)
	e.cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: kubeconfig, QPS: 50, Burst: 100}
	e.cfg.LeaseNamespace = "default"
	e.cfg.LeaseDuration, e.cfg.RenewDeadline, e.cfg.RetryPeriod = testLease, testRenew, testRetry
	configure(e.cfg)
	require.NoError(t, e.cfg.Validate())
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

// A reload releases the lease and takes it back before the follower's handover grace ends: the
// order is asserted (the follower never leads), not a deadline. A 2 s retry_period gives the
// reloaded replica a 1 s grace to win in.
func TestReloadReacquiresItsOwnLease(t *testing.T) {
	c := k8stest.StartT(t)
	retry2s := func(cfg *Config) { cfg.RetryPeriod = 2 * time.Second }
	first, _ := startReplicaWith(t, c.Kubeconfig, "replica-a", retry2s)
	require.Eventually(t, first.Leading, waitFor, tick)
	follower, followerReceivers := startReplicaWith(t, c.Kubeconfig, "replica-b", retry2s)
	require.Eventually(t, func() bool { return follower.Holder() == "replica-a" }, waitFor, tick)

	for round := range 3 {
		// A reload: the old instance shuts down, a new one with the same identity starts at once.
		require.NoError(t, first.Shutdown(context.Background()))
		restarted := time.Now()
		first, _ = startReplicaWith(t, c.Kubeconfig, "replica-a", retry2s)
		require.Eventually(t, first.Leading, waitFor, tick, "round %d: the reloaded replica never took its lease back", round)
		t.Logf("round %d: re-acquired after %s", round, time.Since(restarted))
		assert.Zero(t, followerReceivers.starts.Load(), "round %d: the follower took the lease in between", round)
		assert.Equal(t, "replica-a", leaseHolder(t, c))
	}
}

// The Lease watch outlives the lease requests' timeout (renew_deadline): counted at the API
// server, one watch stays open instead of one per deadline.
func TestLeaseWatchOutlivesTheRequestTimeout(t *testing.T) {
	c := k8stest.StartT(t)
	proxy := c.StartCountingProxy(t)
	e, _ := startReplicaWith(t, proxy.Kubeconfig, "replica-a", func(*Config) {})
	require.Eventually(t, e.Leading, waitFor, tick)
	require.Eventually(t, func() bool { return proxy.InFlight("WATCH leases") == 1 }, waitFor, tick)
	require.Never(t, func() bool { return proxy.Total("WATCH leases") > 1 }, 3*testRenew, tick,
		"the watch was cut and restarted within 3 × renew_deadline")
	assert.Equal(t, 1, proxy.InFlight("WATCH leases"))
}

// A follower that sees the lease released campaigns retry_period/2 later, not at its next ordinary
// retry. Its attempts (GETs of the Lease) are timed at the API server: the takeover attempt comes
// at least the grace after the release began and before an ordinary retry could be due
// (retry_period after its previous attempt; a 6 s retry_period leaves 3 s between the two).
func TestFollowerCampaignsHalfARetryAfterARelease(t *testing.T) {
	c := k8stest.StartT(t)
	const retry = 6 * time.Second
	slow := func(cfg *Config) {
		cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = 10*time.Second, 8*time.Second, retry
	}
	leader, _ := startReplicaWith(t, c.Kubeconfig, "replica-a", slow)
	require.Eventually(t, leader.Leading, waitFor, tick)
	proxy := c.StartCountingProxy(t) // only the follower goes through it
	follower, _ := startReplicaWith(t, proxy.Kubeconfig, "replica-b", slow)
	require.Eventually(t, func() bool { return follower.Holder() == "replica-a" }, waitFor, tick)

	const attempt = "GET leases/otelcol-sealos-it"
	seen := len(proxy.Times(attempt))
	require.Eventually(t, func() bool { return len(proxy.Times(attempt)) > seen }, 3*retry, time.Millisecond, "the follower never retried")
	attempts := proxy.Times(attempt)
	previous := attempts[len(attempts)-1]
	released := time.Now()
	require.NoError(t, leader.Shutdown(context.Background()))
	require.Eventually(t, follower.Leading, waitFor, tick)

	attempts = proxy.Times(attempt)
	idx := slices.IndexFunc(attempts, func(at time.Time) bool { return at.After(previous) })
	require.GreaterOrEqual(t, idx, 0)
	takeover := attempts[idx]
	t.Logf("previous attempt %s before the release, takeover attempt %s after it", released.Sub(previous), takeover.Sub(released))
	assert.GreaterOrEqual(t, takeover.Sub(released), retry/2, "the follower did not wait the handover grace")
	assert.Less(t, takeover.Sub(previous), retry, "the takeover was an ordinary retry, not the release's nudge")
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
