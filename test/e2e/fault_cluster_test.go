package e2e

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// TestFaultAPIServerKilled: kube-apiserver is SIGKILLed for 20 s and restarted on the same port with
// the same etcd. The collector stays up and live throughout; the gated node receiver resumes and
// reports a change made after the restart without any restart of its own.
func TestFaultAPIServerKilled(t *testing.T) {
	faultCase(t)
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	setup := electionSetup{
		elector: "leader_election/cluster", lease: "otelcol-sealos-apikill", interval: 5 * time.Second,
		durations: [3]time.Duration{15 * time.Second, 10 * time.Second, 2 * time.Second},
	}
	r := startElectionReplica(t, c, setup, "replica-a")
	require.Eventually(t, r.exports, waitFor, 200*time.Millisecond, "never exported:\n%s", r.Output())

	require.NoError(t, c.KillAPIServer())
	killed := time.Now()
	for time.Since(killed) < 20*time.Second {
		require.False(t, r.Exited(), "the collector exited during the outage:\n%s", r.Output())
		require.Equal(t, http.StatusOK, r.probe("/livez"), "liveness failed during the outage")
		time.Sleep(500 * time.Millisecond)
	}
	require.NoError(t, c.RestartAPIServer())
	back := time.Now()

	// A change made once the server is back must show: proof that the receiver reads it again.
	ctx := context.Background()
	n, err := c.Client.CoreV1().Nodes().Get(ctx, "node-notready", metav1.GetOptions{})
	require.NoError(t, err, "the restarted API server lost its data")
	_, err = k8stest.SetConditions(ctx, c.Client, n, k8stest.Healthy)
	require.NoError(t, err)
	healthy := `sealos_node_healthy{node="node-notready"}`
	var resumed time.Duration
	require.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(r.metrics)
		if err == nil && all[healthy] == 1 {
			resumed = time.Since(back)
			return true
		}
		return false
	}, 2*time.Minute, 200*time.Millisecond, "the node receiver did not resume after the API server came back:\n%s", r.Output())
	assert.False(t, r.Exited())
	figure(t, "API server SIGKILLed for 20 s: collector up and live throughout; change after restart exported %.1f s after the server was back (interval %s)",
		resumed.Seconds(), setup.interval)
	// client-go's reflectors back off while the server is away (at most ~30 s between tries), then
	// one cycle: bounded by that backoff plus an interval, not by a restart.
	assert.Less(t, resumed, 30*time.Second+setup.interval)
}

// TestFaultLeaderKilledAndFrozen: the leader is SIGKILLed, then the new leader is frozen (SIGSTOP)
// for 30 s and thawed. Each time the other replica takes over once the lease expires; the frozen one
// comes back as a follower, withdraws its series within a cycle and never collects again.
func TestFaultLeaderKilledAndFrozen(t *testing.T) {
	faultCase(t)
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	setup := electionSetup{
		elector: "leader_election/cluster", lease: "otelcol-sealos-frozen", interval: 500 * time.Millisecond,
		durations: [3]time.Duration{6 * time.Second, 4 * time.Second, time.Second},
	}
	const poll = 100 * time.Millisecond
	a, b := startLeaderAndFollower(t, c, setup, poll)

	// SIGKILL: no release, so the follower waits the lease out.
	a.Kill()
	killed := time.Now()
	require.Eventually(t, b.exports, waitFor, poll, "the follower never took over after SIGKILL")
	takeover := time.Since(killed)
	a.restart(t, c)
	require.Eventually(t, func() bool { return a.nodeState() == "standby" }, waitFor, poll, "the restarted replica is not a follower")

	// SIGSTOP: the leader is frozen with its series still in memory.
	require.True(t, b.exports(), "the new leader does not export")
	require.NoError(t, b.Signal(syscall.SIGSTOP))
	frozen := time.Now()
	var frozenTakeover time.Duration
	require.Eventually(t, func() bool {
		if a.exports() {
			frozenTakeover = time.Since(frozen)
			return true
		}
		return false
	}, waitFor, poll, "nobody took over from the frozen leader")
	time.Sleep(time.Until(frozen.Add(30 * time.Second)))
	require.NoError(t, b.Signal(syscall.SIGCONT))
	thawed := time.Now()

	var cleared time.Duration
	require.Eventually(t, func() bool {
		if len(gatedSeries(t, b.metrics)) == 0 {
			cleared = time.Since(thawed)
			return true
		}
		return false
	}, waitFor, 20*time.Millisecond, "the thawed replica still serves %v", gatedSeries(t, b.metrics))
	// Its elector notices the lost lease only at its next renew deadline; until then, and after it
	// is a follower, it must serve nothing and collect nothing.
	var standby time.Duration
	for after := 0; after < 10; time.Sleep(poll) {
		assert.Empty(t, gatedSeries(t, b.metrics))
		assert.True(t, a.exports(), "the new leader stopped exporting")
		switch {
		case standby > 0:
			after++
		case b.nodeState() == "standby":
			standby = time.Since(thawed)
		case time.Since(thawed) > waitFor:
			t.Fatalf("the thawed replica never became a follower:\n%s", b.Output())
		}
	}
	assert.Equal(t, "replica-a", leaseHolderOf(t, c, setup.lease))
	figure(t, "leader SIGKILL -> follower exports after %.1f s; leader SIGSTOP -> follower exports after %.1f s (lease %s); thawed leader's series gone %.2f s after SIGCONT, a follower after %.1f s (renew deadline %s), no collection after it",
		takeover.Seconds(), frozenTakeover.Seconds(), setup.durations[0], cleared.Seconds(), standby.Seconds(), setup.durations[1])
	assert.Less(t, cleared, 2*setup.interval+time.Second, "the thawed leader kept its series past a cycle")
}
