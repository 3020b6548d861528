package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/lvmtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// The lvm receiver in the real binary on a real volume group (loop device), exported through
// Prometheus under the predecessor's names; a second instance replays recorded LVM output with
// active thin pools, so every series' exported name is checked. When vgs starts failing, the
// lvm series disappear (no zeros, no old numbers) and success turns 0.
func TestLVMThroughPrometheus(t *testing.T) {
	vg := lvmtest.CreateT(t, "e2e", 64<<20)
	require.NoError(t, vg.AddThinPool(context.Background(), "pool", 4, 8))
	dir := t.TempDir()
	flag := filepath.Join(dir, "broken")
	vgs := filepath.Join(dir, "vgs")
	// A real vgs that fails (exit 5, its message on stderr) while the flag file exists.
	require.NoError(t, os.WriteFile(vgs, fmt.Appendf(nil, "#!/bin/sh\n[ -e %q ] && { echo '  Cannot process volume group e2e' >&2; exit 5; }\nexec vgs \"$@\"\n", flag), 0o755))
	recorded, err := filepath.Abs(repoPath("receiver", "lvmreceiver", "testdata"))
	require.NoError(t, err)
	replay := func(name, file string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\ncat '"+filepath.Join(recorded, file)+"'\n"), 0o755))
		return path
	}

	port := otelcoltest.FreePort(t)
	cfg := writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(`receivers:
  lvm:
    node_name: e2e-node
    collection_interval: 200ms
    vgs_path: %s
  lvm/recorded:
    node_name: recorded-node
    collection_interval: 200ms
    vgs_path: %s
    lvs_path: %s
`, vgs, replay("vgs-recorded", "vgs/two-vgs-thin-pool.json"), replay("lvs-recorded", "lvs/active-thin-pools.json")), port, 0, "lvm", "lvm/recorded"))
	col := otelcoltest.Start(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	var got map[string]float64
	scrape := func() map[string]float64 {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return nil
		}
		got = all
		return all
	}
	node := `{node="e2e-node"}`
	onVG := fmt.Sprintf(`{node="e2e-node",vg=%q}`, vg.Name)
	pool := fmt.Sprintf(`{lv="pool",node="e2e-node",vg=%q}`, vg.Name)
	ok := assert.Eventually(t, func() bool {
		s := scrape()
		return s[`sealos_state_metric_collector_success{collector="lvm"}`] == 1 && s["sealos_lvm_vg_size_bytes"+onVG] > 0 &&
			s[`sealos_state_metric_collector_success{collector="lvm/recorded"}`] == 1
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "lvm series: %v\ncollector exited: %v\n%s", series.WithPrefix(got, "sealos_lvm"), col.Exited(), col.Output())

	assert.Equal(t, float64(15<<22), got["sealos_lvm_vg_size_bytes"+onVG])
	assert.Equal(t, float64(10<<22), got["sealos_lvm_vg_free_bytes"+onVG])
	assert.Equal(t, 1.0, got["sealos_lvm_vg_physical_volumes"+onVG])
	assert.Equal(t, 2.0, got["sealos_lvm_vg_logical_volumes"+onVG])
	assert.Equal(t, float64(16<<20), got["sealos_lvm_thin_pool_size_bytes"+pool])
	assert.Equal(t, float64(4<<20), got["sealos_lvm_thin_pool_metadata_size_bytes"+pool])
	assert.NotContains(t, got, "sealos_lvm_thin_pool_data_usage_ratio"+pool, "an inactive pool has no usage")
	for _, name := range []string{"sealos_lvm_vgs_total_capacity", "sealos_lvm_vgs_total_free", "sealos_lvm_vgs_metadata_size", "sealos_lvm_vgs_metadata_free"} {
		assert.Positive(t, got[name+node], "the predecessor's series %s", name)
	}
	assert.GreaterOrEqual(t, got["sealos_lvm_volume_groups"+node], 1.0)

	// Every exported name, from the recorded output of a node with two active thin pools.
	rec := series.WithPrefix(withLabel(got, `node="recorded-node"`), "sealos_lvm_")
	want := map[string]float64{
		`sealos_lvm_volume_groups{node="recorded-node"}`:                                               2,
		`sealos_lvm_vgs_total_capacity{node="recorded-node"}`:                                          192937984,
		`sealos_lvm_vgs_total_free{node="recorded-node"}`:                                              171966464,
		`sealos_lvm_vgs_metadata_size{node="recorded-node"}`:                                           2088960,
		`sealos_lvm_vgs_metadata_free{node="recorded-node"}`:                                           1040384,
		`sealos_lvm_vg_size_bytes{node="recorded-node",vg="vg_cache"}`:                                 130023424,
		`sealos_lvm_vg_size_bytes{node="recorded-node",vg="vg_data"}`:                                  62914560,
		`sealos_lvm_vg_free_bytes{node="recorded-node",vg="vg_cache"}`:                                 130023424,
		`sealos_lvm_vg_free_bytes{node="recorded-node",vg="vg_data"}`:                                  41943040,
		`sealos_lvm_vg_physical_volumes{node="recorded-node",vg="vg_cache"}`:                           1,
		`sealos_lvm_vg_physical_volumes{node="recorded-node",vg="vg_data"}`:                            1,
		`sealos_lvm_vg_logical_volumes{node="recorded-node",vg="vg_cache"}`:                            0,
		`sealos_lvm_vg_logical_volumes{node="recorded-node",vg="vg_data"}`:                             2,
		`sealos_lvm_thin_pool_size_bytes{lv="cachepool",node="recorded-node",vg="vg_cache"}`:           104857600,
		`sealos_lvm_thin_pool_size_bytes{lv="pool0",node="recorded-node",vg="vg_data"}`:                16777216,
		`sealos_lvm_thin_pool_metadata_size_bytes{lv="cachepool",node="recorded-node",vg="vg_cache"}`:  4194304,
		`sealos_lvm_thin_pool_metadata_size_bytes{lv="pool0",node="recorded-node",vg="vg_data"}`:       4194304,
		`sealos_lvm_thin_pool_data_usage_ratio{lv="cachepool",node="recorded-node",vg="vg_cache"}`:     1,
		`sealos_lvm_thin_pool_data_usage_ratio{lv="pool0",node="recorded-node",vg="vg_data"}`:          0.2345,
		`sealos_lvm_thin_pool_metadata_usage_ratio{lv="cachepool",node="recorded-node",vg="vg_cache"}`: 0.0234,
		`sealos_lvm_thin_pool_metadata_usage_ratio{lv="pool0",node="recorded-node",vg="vg_data"}`:      0.1172,
	}
	assert.Equal(t, keys(want), keys(rec))
	for k, v := range want {
		assert.InDelta(t, v, rec[k], 1e-9, k)
	}

	// vgs fails: the lvm series of e2e-node go at once, success turns 0; the log says why.
	require.NoError(t, os.WriteFile(flag, nil, 0o600))
	require.Eventually(t, func() bool {
		s := scrape()
		return s != nil && s[`sealos_state_metric_collector_success{collector="lvm"}`] == 0 &&
			len(series.WithPrefix(withLabel(s, `node="e2e-node"`), "sealos_lvm_")) == 0
	}, waitFor, 200*time.Millisecond, "lvm series after vgs failed: %v", series.WithPrefix(got, "sealos_lvm_"))
	assert.Contains(t, col.Output(), "exited with status 5: Cannot process volume group e2e")

	require.NoError(t, os.Remove(flag))
	require.Eventually(t, func() bool {
		s := scrape()
		return s[`sealos_state_metric_collector_success{collector="lvm"}`] == 1 && s["sealos_lvm_vg_size_bytes"+onVG] == float64(15<<22)
	}, waitFor, 200*time.Millisecond)
}

// withLabel keeps the series that carry label (`name="value"`).
func withLabel(all map[string]float64, label string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range all {
		if strings.Contains(k, label) {
			out[k] = v
		}
	}
	return out
}
