package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// TestLeaseMoveClearsTheOldLeader moves the lease to the follower while the leader runs on: the
// old leader's /metrics must drop every series of the gated receiver (metric_expiration is an
// hour, so only staleness markers can do it) and the new leader serves them.
func TestLeaseMoveClearsTheOldLeader(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	setup := electionSetup{
		elector: "leader_election/cluster", lease: "otelcol-sealos-move", interval: 200 * time.Millisecond,
		durations: [3]time.Duration{4 * time.Second, 3 * time.Second, time.Second},
	}
	const poll = 50 * time.Millisecond
	a, b := startLeaderAndFollower(t, c, setup, poll)

	moved := time.Now()
	stealLease(t, c, setup.lease, "replica-b")
	require.Eventually(t, func() bool { return len(gatedSeries(t, a.metrics)) == 0 }, waitFor, poll,
		"the old leader still serves %v", gatedSeries(t, a.metrics))
	cleared := time.Since(moved)
	require.Eventually(t, b.exports, waitFor, poll, "the new leader never exported")
	t.Logf("lease moved -> old leader's series gone after %s (renew deadline %s, interval %s)", cleared, setup.durations[1], setup.interval)

	// It stays clean: a follower emits nothing, and nothing from before comes back.
	for range 20 {
		assert.Empty(t, gatedSeries(t, a.metrics))
		time.Sleep(poll)
	}
}

// startLeaderAndFollower starts replica-a, waits until it leads, then replica-b as its follower.
func startLeaderAndFollower(t *testing.T, c *k8stest.Cluster, setup electionSetup, poll time.Duration) (leader, follower *electionReplica) {
	t.Helper()
	leader = startElectionReplica(t, c, setup, "replica-a")
	require.Eventually(t, leader.exports, waitFor, poll, "the only replica never led")
	follower = startElectionReplica(t, c, setup, "replica-b")
	require.Eventually(t, func() bool { return follower.nodeState() == "standby" }, waitFor, poll)
	return leader, follower
}

// gatedSeries is what the node receiver contributes to an endpoint, self-metrics included.
func gatedSeries(t *testing.T, url string) map[string]float64 {
	t.Helper()
	all, err := otelcoltest.Scrape(url)
	require.NoError(t, err)
	out := series.WithPrefix(all, "sealos_node_")
	for k, v := range all {
		if strings.Contains(k, `collector="node"`) {
			out[k] = v
		}
	}
	return out
}

// stealLease makes holder the Lease's holder, as if it had acquired it.
func stealLease(t *testing.T, c *k8stest.Cluster, name, holder string) {
	t.Helper()
	leases := c.Client.CoordinationV1().Leases("default")
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		lease, err := leases.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.NewMicroTime(time.Now())
		lease.Spec.HolderIdentity = &holder
		lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
		_, err = leases.Update(context.Background(), lease, metav1.UpdateOptions{})
		return err
	}), fmt.Sprintf("steal lease %s", name))
}
