package lvmreceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/lvmtest"
	"github.com/labring/otelcol-sealos/test/series"
)

// Tests on real volume groups (file-backed loop devices; root and lvm2 needed, skipped otherwise).

// vgsTruth asks vgs itself, in its plain text format, for what the receiver should report.
func vgsTruth(t *testing.T) map[string][]int64 {
	t.Helper()
	out, err := lvmtest.Run(context.Background(), "vgs", "--noheadings", "--separator", ",", "--units", "b", "--nosuffix",
		"-o", "vg_name,vg_size,vg_free,vg_mda_size,vg_mda_free,pv_count,lv_count")
	require.NoError(t, err)
	truth := map[string][]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(strings.TrimSpace(line), ",")
		require.Len(t, cols, 7, line)
		for _, c := range cols[1:] {
			n, err := strconv.ParseInt(c, 10, 64)
			require.NoError(t, err, line)
			truth[cols[0]] = append(truth[cols[0]], n)
		}
	}
	return truth
}

func TestRealVolumeGroupsMatchVGS(t *testing.T) {
	data := lvmtest.CreateT(t, "data", 64<<20)
	cache := lvmtest.CreateT(t, "cache", 128<<20)

	md, err := collect(t, testConfig("vgs", "lvs"))
	require.NoError(t, err)
	got := series.Of(md)
	truth := vgsTruth(t)
	require.Contains(t, truth, data.Name)
	require.Contains(t, truth, cache.Name)

	var sums [4]int64
	for name, v := range truth {
		vg := fmt.Sprintf(`{node="test-node",vg=%q}`, name)
		assert.Equal(t, float64(v[0]), got["lvm.vg.size"+vg], name)
		assert.Equal(t, float64(v[1]), got["lvm.vg.free"+vg], name)
		assert.Equal(t, float64(v[4]), got["lvm.vg.physical_volumes"+vg], name)
		assert.Equal(t, float64(v[5]), got["lvm.vg.logical_volumes"+vg], name)
		for i := range sums {
			sums[i] += v[i]
		}
	}
	node := `{node="test-node"}`
	assert.Equal(t, float64(len(truth)), got["lvm.volume_groups"+node])
	assert.Equal(t, float64(sums[0]), got["lvm.vgs_total_capacity"+node])
	assert.Equal(t, float64(sums[1]), got["lvm.vgs_total_free"+node])
	assert.Equal(t, float64(sums[2]), got["lvm.vgs_metadata_size"+node])
	assert.Equal(t, float64(sums[3]), got["lvm.vgs_metadata_free"+node])

	// And against the devices: 4 MiB extents on 64 and 128 MiB files, less LVM's 1 MiB header.
	assert.Equal(t, float64(15<<22), got[fmt.Sprintf(`lvm.vg.size{node="test-node",vg=%q}`, data.Name)])
	assert.Equal(t, float64(31<<22), got[fmt.Sprintf(`lvm.vg.size{node="test-node",vg=%q}`, cache.Name)])
	assert.Empty(t, series.WithPrefix(got, "lvm.thin_pool."), "no logical volumes: lvs is not run")
}

func TestRealThinPool(t *testing.T) {
	vg := lvmtest.CreateT(t, "thin", 64<<20)
	require.NoError(t, vg.AddThinPool(context.Background(), "pool", 4, 8))

	md, err := collect(t, testConfig("vgs", "lvs"))
	require.NoError(t, err)
	got := series.Of(md)
	pool := fmt.Sprintf(`{lv="pool",node="test-node",vg=%q}`, vg.Name)
	assert.Equal(t, float64(16<<20), got["lvm.thin_pool.size"+pool])
	assert.Equal(t, float64(4<<20), got["lvm.thin_pool.metadata_size"+pool])
	// The pool is not active (it exists in the metadata only): the kernel has no usage to report,
	// so the receiver reports none rather than 0.
	assert.NotContains(t, got, "lvm.thin_pool.data_usage"+pool)
	assert.NotContains(t, got, "lvm.thin_pool.metadata_usage"+pool)
	vgKey := fmt.Sprintf(`{node="test-node",vg=%q}`, vg.Name)
	assert.Equal(t, 2.0, got["lvm.vg.logical_volumes"+vgKey], "the pool and its thin volume")
	assert.Equal(t, float64((15-5)<<22), got["lvm.vg.free"+vgKey], "4 data extents and 1 metadata extent used")
	for k := range series.WithPrefix(got, "lvm.thin_pool.") {
		assert.NotContains(t, k, "tdata", "internal volumes are not pools")
	}
}

// lvmSystemDir writes an lvm.conf into a new directory, for LVM_SYSTEM_DIR.
func lvmSystemDir(t *testing.T, conf string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lvm.conf"), []byte(conf), 0o644))
	return dir
}

func TestRealNodeWithoutVolumeGroups(t *testing.T) {
	lvmtest.Require(t)
	lvmtest.CreateT(t, "hidden", 64<<20) // exists, but the filter below hides every device
	cfg := testConfig("vgs", "lvs")
	cfg.CommandPrefix = []string{"env", "LVM_SYSTEM_DIR=" + lvmSystemDir(t, `devices { global_filter = [ "r|.*|" ] }`)}
	md, err := collect(t, cfg)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{`lvm.volume_groups{node="test-node"}`: 0}, series.Of(md),
		"no volume group: the count 0 and nothing else (no zero capacity that alerts as a full disk)")
}

func TestRealVGSFailing(t *testing.T) {
	lvmtest.Require(t)
	lvmtest.CreateT(t, "present", 64<<20)
	cfg := testConfig("vgs", "lvs")
	cfg.CommandPrefix = []string{"env", "LVM_SYSTEM_DIR=" + lvmSystemDir(t, "devices { global_filter = [ \n")}
	md, err := collect(t, cfg)
	require.Error(t, err)
	assert.ErrorContains(t, err, "vgs exited with status 4")
	assert.ErrorContains(t, err, "Parse error")
	assert.ErrorContains(t, err, "Failed to load config file")
	assert.Empty(t, series.Of(md), "no numbers from a failed vgs")
}

func TestRealHostRoot(t *testing.T) {
	vg := lvmtest.CreateT(t, "chroot", 64<<20)
	cfg := testConfig("vgs", "lvs")
	cfg.HostRoot = "/" // chrooted into /: the host's tools and /dev, as from a container mounting / at /host
	md, err := collect(t, cfg)
	require.NoError(t, err)
	assert.Equal(t, float64(15<<22), series.Of(md)[fmt.Sprintf(`lvm.vg.size{node="test-node",vg=%q}`, vg.Name)])

	cfg.HostRoot = t.TempDir() // no LVM inside
	md, err = collect(t, cfg)
	assert.ErrorContains(t, err, "vgs: no executable vgs in /usr/sbin:/sbin:")
	assert.ErrorContains(t, err, "under host_root "+cfg.HostRoot)
	assert.Empty(t, series.Of(md))
}

func TestRealCommandPrefix(t *testing.T) {
	vg := lvmtest.CreateT(t, "prefix", 64<<20)
	cfg := testConfig("vgs", "lvs")
	cfg.CommandPrefix = []string{"env", "--"} // stands in for nsenter: any command that runs its arguments
	md, err := collect(t, cfg)
	require.NoError(t, err)
	assert.Equal(t, float64(15<<22), series.Of(md)[fmt.Sprintf(`lvm.vg.size{node="test-node",vg=%q}`, vg.Name)])
}
