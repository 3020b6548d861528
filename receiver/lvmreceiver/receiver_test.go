package lvmreceiver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/test/lvmtest"
	"github.com/labring/otelcol-sealos/test/series"
)

const waitFor = 10 * time.Second

func startReceiver(t *testing.T, cfg *Config, base component.Host) (*consumertest.MetricsSink, *statereceivertest.Host) {
	t.Helper()
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	require.NoError(t, cfg.Validate())
	return statereceivertest.StartReceiver(t, NewFactory(), cfg, base)
}

// waitEmission waits for an emission, at index from or later, that satisfies ok.
func waitEmission(t *testing.T, sink *consumertest.MetricsSink, from int, ok func(pmetric.Metrics) bool) (pmetric.Metrics, int) {
	t.Helper()
	return statereceivertest.WaitBatch(t, sink, from, waitFor, ok)
}

func success(md pmetric.Metrics) (float64, bool) {
	v, ok := series.Of(md)[`state_metric.collector.success{collector="lvm"}`]
	return v, ok
}

// A real vgs that starts failing (a broken lvm.conf) fails the cycle: the status says why, the
// self-metric says 0, and every lvm series of the previous cycle is marked stale instead of being
// repeated or zeroed. Fixed again, the series come back.
func TestReceiverVGSFailsAndRecovers(t *testing.T) {
	vg := lvmtest.CreateT(t, "receiver", 64<<20)
	broken := lvmSystemDir(t, "devices { global_filter = [ \n")
	flag := filepath.Join(t.TempDir(), "broken")
	wrapper := fakeTool(t, "vgs", fmt.Sprintf(`[ -e %q ] && export LVM_SYSTEM_DIR=%q
exec vgs "$@"`, flag, broken))
	sink, host := startReceiver(t, testConfig(wrapper, "lvs"), componenttest.NewNopHost())
	sizeKey := fmt.Sprintf(`lvm.vg.size{node="test-node",vg=%q}`, vg.Name)

	good, i := waitEmission(t, sink, 0, func(md pmetric.Metrics) bool { v, ok := success(md); return ok && v == 1 })
	assert.Equal(t, float64(15<<22), series.Of(good)[sizeKey])
	assert.Equal(t, componentstatus.StatusOK, host.LastEvent().Status())

	require.NoError(t, os.WriteFile(flag, nil, 0o600))
	failed, i := waitEmission(t, sink, i+1, func(md pmetric.Metrics) bool { v, ok := success(md); return ok && v == 0 })
	assert.Empty(t, series.WithPrefix(series.Of(failed), "lvm."), "no numbers from a failed vgs")
	stale := series.Stale(failed)
	assert.Contains(t, stale, sizeKey, "the previous cycle's series are marked stale")
	assert.Contains(t, stale, `lvm.vgs_total_capacity{node="test-node"}`)
	ev := host.LastEvent()
	require.NotNil(t, ev)
	assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
	require.Error(t, ev.Err())
	assert.Contains(t, ev.Err().Error(), "exited with status 4")
	assert.Contains(t, ev.Err().Error(), "Failed to load config file")

	require.NoError(t, os.Remove(flag))
	back, _ := waitEmission(t, sink, i+1, func(md pmetric.Metrics) bool { v, ok := success(md); return ok && v == 1 })
	assert.Equal(t, float64(15<<22), series.Of(back)[sizeKey])
	require.Eventually(t, func() bool { return host.LastEvent().Status() == componentstatus.StatusOK }, waitFor, 10*time.Millisecond)
}

// A DaemonSet runs without an elector, but an elector works too: nothing before leading.
func TestReceiverWithElector(t *testing.T) {
	electorID := component.MustNewIDWithName("k8s_leader_elector", "lvm")
	elector := &leadergatetest.FakeElector{}
	cfg := testConfig(replay(t, "vgs", "vgs/two-vgs.json", ""), "lvs")
	cfg.K8sLeaderElector = &electorID
	sink, _ := startReceiver(t, cfg, leadergatetest.NewHost(electorID, elector))

	time.Sleep(300 * time.Millisecond) // three intervals without the lease
	assert.Empty(t, sink.AllMetrics(), "a follower emits nothing")
	elector.BecomeLeader()
	md, _ := waitEmission(t, sink, 0, func(md pmetric.Metrics) bool { _, ok := success(md); return ok })
	assert.Equal(t, 2.0, series.Of(md)[`lvm.volume_groups{node="test-node"}`])
	for k := range series.Of(md) {
		assert.True(t, strings.HasPrefix(k, "lvm.") || strings.HasPrefix(k, "state_metric."), k)
	}
}
