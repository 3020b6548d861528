package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
	"github.com/labring/otelcol-sealos/test/zombietest"
)

// The zombie receiver in the real binary: a real zombie in a cgroup shaped like containerd's
// (systemd driver, cgroup v2) whose pod is in the API server, another on the host; one instance
// attributes through the API server, one without API access (auth_type none). Reaped, the
// container's series disappear.
func TestZombieThroughPrometheus(t *testing.T) {
	c := k8stest.StartT(t)
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	id := hex.EncodeToString(b[:])
	pod, err := k8stest.CreatePodOnNode(context.Background(), c.Client, "e2e", "leaky", "e2e-node", map[string]string{"app": "containerd://" + id})
	require.NoError(t, err)
	slice := "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(string(pod.UID), "-", "_") + ".slice"
	inPod := zombietest.StartT(t, zombietest.Options{Cgroup2: slice + "/cri-containerd-" + id + ".scope"})
	zombietest.StartT(t, zombietest.Options{})

	port := otelcoltest.FreePort(t)
	cfg := writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(`receivers:
  zombie:
    node_name: e2e-node
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 200ms
    parent_command: true
  zombie/noapi:
    node_name: e2e-node
    auth_type: none
    collection_interval: 200ms
`, c.Kubeconfig), port, 0, "zombie", "zombie/noapi"))
	col := otelcoltest.Start(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	inContainer := `{container="app",namespace="e2e",node="e2e-node",parent_command="sleep",pod="leaky"}`
	byID := fmt.Sprintf(`{container_id=%q,node="e2e-node"}`, id)
	var got map[string]float64
	ok := assert.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return false
		}
		got = all
		return all["sealos_zombie_processes_total"+inContainer] == 1 && all["sealos_zombie_processes_total"+byID] == 1
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "zombie series: %v\ncollector exited: %v\n%s", series.WithPrefix(got, "sealos_zombie_"), col.Exited(), col.Output())
	assert.Positive(t, got["sealos_zombie_oldest_seconds"+inContainer])
	assert.Less(t, got["sealos_zombie_oldest_seconds"+inContainer], waitFor.Seconds()+10)
	assert.GreaterOrEqual(t, got[`sealos_zombie_processes_total{container="host",node="e2e-node",parent_command="sleep"}`], 1.0)
	assert.GreaterOrEqual(t, got[`sealos_zombie_processes_total{container_id="host",node="e2e-node"}`], 1.0)
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="zombie"}`])
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="zombie/noapi"}`])

	require.NoError(t, inPod.Reap())
	require.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return false
		}
		got = all
		_, a := all["sealos_zombie_processes_total"+inContainer]
		_, b := all["sealos_zombie_processes_total"+byID]
		return !a && !b
	}, waitFor, 200*time.Millisecond, "after reaping: %v", series.WithPrefix(got, "sealos_zombie_"))
}
