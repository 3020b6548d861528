package e2e

import (
	"context"
	"encoding/json"
	"fmt"
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

// electionReplica is one collector replica whose node receiver is gated by an elector, with the
// status extension next to it.
type electionReplica struct {
	name    string // its POD_NAME, hence its lease identity with our elector
	config  string
	metrics string // Prometheus endpoint URL
	status  string // status extension base URL
	*otelcoltest.Process
}

// electionSetup is what differs between runs: which elector, which durations, what else runs.
type electionSetup struct {
	elector         string // "leader_election/cluster" (ours) or "k8s_leader_elector" (contrib)
	lease           string
	durations       [3]time.Duration // lease, renew, retry
	interval        time.Duration    // the node receiver's collection_interval
	forbiddenConfig string           // kubeconfig of an identity without RBAC: adds an ungated node/forbidden receiver
}

func (s electionSetup) write(t *testing.T, c *k8stest.Cluster, metricsPort, statusPort int) string {
	t.Helper()
	electorType := "leader_election"
	if s.elector == "k8s_leader_elector" {
		electorType = "k8s_leader_elector"
	}
	extraReceiver, extraPipeline := "", ""
	if s.forbiddenConfig != "" {
		extraReceiver = fmt.Sprintf(`  node/forbidden:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 500ms
    sync_timeout: 1s
`, s.forbiddenConfig)
		extraPipeline = ", node/forbidden"
	}
	kubeconfig := ""
	if electorType == "leader_election" {
		kubeconfig = "    kubeconfig_path: " + c.Kubeconfig + "\n"
	}
	return writeConfig(t, fmt.Sprintf(`receivers:
  node:
    auth_type: kubeConfig
    kubeconfig_path: %[1]s
    collection_interval: %[2]s
    initial_delay: 0s
    ignore_new_node_duration: 0s
    k8s_leader_elector: %[3]s
%[4]s
exporters:
  prometheus:
    endpoint: 127.0.0.1:%[5]d
    namespace: sealos
    without_scope_info: true
    metric_expiration: 1h

extensions:
  %[3]s:
    auth_type: kubeConfig
%[6]s    lease_name: %[7]s
    lease_namespace: default
    lease_duration: %[8]s
    renew_deadline: %[9]s
    retry_period: %[10]s
  status:
    endpoint: 127.0.0.1:%[11]d

service:
  extensions: [%[3]s, status]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [node%[12]s]
      exporters: [prometheus]
`, c.Kubeconfig, s.interval, s.elector, extraReceiver, metricsPort, kubeconfig, s.lease,
		s.durations[0], s.durations[1], s.durations[2], statusPort, extraPipeline))
}

func startElectionReplica(t *testing.T, c *k8stest.Cluster, s electionSetup, name string) *electionReplica {
	t.Helper()
	metricsPort, statusPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	r := &electionReplica{
		name:    name,
		config:  s.write(t, c, metricsPort, statusPort),
		metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort),
		status:  fmt.Sprintf("http://127.0.0.1:%d", statusPort),
	}
	// contrib's elector reads the default kubeconfig; ours is given kubeconfig_path.
	r.Process = otelcoltest.StartWithEnv(t, r.config, []string{"POD_NAME=" + name, "KUBECONFIG=" + c.Kubeconfig})
	return r
}

// restart starts the same replica again (same POD_NAME, same ports) after its process ended.
func (r *electionReplica) restart(t *testing.T, c *k8stest.Cluster) {
	t.Helper()
	r.Process = otelcoltest.StartWithEnv(t, r.config, []string{"POD_NAME=" + r.name, "KUBECONFIG=" + c.Kubeconfig})
}

// lastCollection is the node receiver's last successful collection time as this replica exports
// it, or zero when it exports none (a follower, or not up).
func (r *electionReplica) lastCollection() time.Time {
	all, err := otelcoltest.Scrape(r.metrics)
	if err != nil {
		return time.Time{}
	}
	v, ok := all[`sealos_state_metric_collector_last_collection_timestamp{collector="node"}`]
	if !ok {
		return time.Time{}
	}
	return time.Unix(0, int64(v*1e9))
}

func (r *electionReplica) exports() bool { return exportsSampleNodes(r.metrics) }

type statusDoc struct {
	Ready     bool `json:"ready"`
	Live      bool `json:"live"`
	Receivers map[string]struct {
		State     string `json:"state"`
		LastError string `json:"last_error"`
		Leading   *bool  `json:"leading"`
	} `json:"receivers"`
	Leases map[string]struct {
		Lease, Identity, Holder string
		Leading                 bool
	} `json:"leases"`
}

// statusOf fetches the status document; ok is false while the endpoint does not answer.
func (r *electionReplica) statusOf() (doc statusDoc, ok bool) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(r.status + "/status")
	if err != nil {
		return doc, false
	}
	defer resp.Body.Close()
	return doc, json.NewDecoder(resp.Body).Decode(&doc) == nil
}

func (r *electionReplica) probe(path string) int {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(r.status + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (r *electionReplica) nodeState() string {
	doc, _ := r.statusOf()
	return doc.Receivers["node"].State
}

func leaseHolderOf(t *testing.T, c *k8stest.Cluster, name string) string {
	t.Helper()
	lease, err := c.Client.CoordinationV1().Leases("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// TestLeaderElectionReplicas drives two real collectors through the life of a leader: who exports,
// a reload on the leader, a graceful stop, a restart as follower, a crash; and the status
// endpoint in each state, including a receiver that fails on a forbidden resource.
func TestLeaderElectionReplicas(t *testing.T) {
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	forbidden, err := c.KubeconfigFor(t.TempDir(), "no-rbac")
	require.NoError(t, err)
	// Short durations keep the test quick; docs/benchmarks.md measures the defaults.
	setup := electionSetup{
		elector: "leader_election/cluster", lease: "otelcol-sealos-e2e", interval: 200 * time.Millisecond,
		durations: [3]time.Duration{4 * time.Second, 3 * time.Second, time.Second}, forbiddenConfig: forbidden,
	}
	const poll = 100 * time.Millisecond

	a := startElectionReplica(t, c, setup, "replica-a")
	require.Eventually(t, a.exports, waitFor, poll, "the only replica never led")
	b := startElectionReplica(t, c, setup, "replica-b")
	require.Eventually(t, func() bool { return b.nodeState() == "standby" }, waitFor, poll, "the second replica should stand by")

	t.Run("exactly one exports; status says who leads", func(t *testing.T) {
		for range 10 {
			all, err := otelcoltest.Scrape(b.metrics)
			require.NoError(t, err)
			require.NotContains(t, all, `sealos_node_healthy{node="node-healthy"}`, "the follower exported node series")
			time.Sleep(poll)
		}
		require.True(t, a.exports())
		assert.Equal(t, "replica-a", leaseHolderOf(t, c, setup.lease))

		docA, ok := a.statusOf()
		require.True(t, ok)
		assert.Equal(t, "running", docA.Receivers["node"].State)
		assert.True(t, docA.Leases["leader_election/cluster"].Leading)
		assert.Equal(t, "default/otelcol-sealos-e2e", docA.Leases["leader_election/cluster"].Lease)
		assert.Equal(t, "replica-a", docA.Leases["leader_election/cluster"].Identity)
		docB, ok := b.statusOf()
		require.True(t, ok)
		assert.Equal(t, "standby", docB.Receivers["node"].State)
		assert.False(t, *docB.Receivers["node"].Leading)
		assert.Equal(t, "replica-a", docB.Leases["leader_election/cluster"].Holder)
		assert.False(t, docB.Leases["leader_election/cluster"].Leading)
	})

	t.Run("a receiver failing on a forbidden resource: its error, probes unaffected", func(t *testing.T) {
		var doc statusDoc
		require.Eventually(t, func() bool {
			doc, _ = a.statusOf()
			return doc.Receivers["node/forbidden"].State == "failed"
		}, waitFor, poll, "node/forbidden should be reported failed")
		assert.Contains(t, doc.Receivers["node/forbidden"].LastError, `nodes is forbidden: User "no-rbac" cannot list resource "nodes"`)
		assert.True(t, doc.Ready)
		assert.Equal(t, http.StatusOK, a.probe("/livez"), "an outside failure must not fail liveness")
		assert.Equal(t, http.StatusOK, a.probe("/readyz"), "nor readiness: the pod's other metrics are still served")
	})

	t.Run("a reload on the leader keeps the lease", func(t *testing.T) {
		before := a.lastCollection()
		require.NoError(t, a.Signal(syscall.SIGHUP))
		require.Eventually(t, func() bool { return a.lastCollection().After(before.Add(time.Second)) }, waitFor, poll,
			"the reloaded leader did not export again:\n%s", a.Output())
		assert.Equal(t, "replica-a", leaseHolderOf(t, c, setup.lease), "the lease moved during the reload")
		assert.Equal(t, "standby", b.nodeState(), "the follower took over during the reload")
		assert.Contains(t, a.Output(), "Config updated, restart service", "the collector did not reload")
	})

	t.Run("SIGTERM on the leader hands over at once", func(t *testing.T) {
		a.Stop()
		require.Eventually(t, b.exports, waitFor, poll, "the follower never took over:\n%s", b.Output())
		assert.Equal(t, "replica-b", leaseHolderOf(t, c, setup.lease))
		assert.Equal(t, "running", b.nodeState())
	})

	outer := t // the restarted process must outlive this subtest: its t.Cleanup stops it
	t.Run("the old leader returns as a follower", func(t *testing.T) {
		a.restart(outer, c)
		require.Eventually(t, func() bool { return a.nodeState() == "standby" }, waitFor, poll)
		assert.True(t, b.exports())
		assert.Equal(t, "replica-b", leaseHolderOf(t, c, setup.lease))
		docA, _ := a.statusOf()
		assert.Equal(t, "replica-b", docA.Leases["leader_election/cluster"].Holder)
	})

	t.Run("SIGKILL on the leader: takeover after the lease expires", func(t *testing.T) {
		killed := time.Now()
		b.Kill()
		require.Eventually(t, a.exports, waitFor, poll, "the follower never took over after a crash:\n%s", a.Output())
		took := time.Since(killed)
		t.Logf("takeover after SIGKILL: %s", took)
		assert.GreaterOrEqual(t, took, 2*time.Second, "a crashed leader's lease must be waited out, not stolen early")
		assert.Equal(t, "replica-a", leaseHolderOf(t, c, setup.lease))
	})
}
