package lvmreceiver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/lvmreceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/series"
)

// testConfig is the default config for node test-node with the given tools.
func testConfig(vgs, lvs string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.NodeName = "test-node"
	cfg.VGSPath, cfg.LVSPath = vgs, lvs
	return cfg
}

func collect(t *testing.T, cfg *Config) (pmetric.Metrics, error) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	src := newLVMSource(cfg, receivertest.NewNopSettings(metadata.Type))
	return src.Collect(context.Background())
}

// fakeTool writes an executable shell script: where LVM cannot produce an output on this machine
// (an active thin pool needs device-mapper), the tool's stdout is replayed from recorded real output.
func fakeTool(t *testing.T, name, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755))
	return path
}

// replay is a fake tool printing a testdata file; it leaves a mark in marks (if set) when run.
func replay(t *testing.T, name, file, marks string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", file))
	require.NoError(t, err)
	script := "cat '" + abs + "'"
	if marks != "" {
		script = "echo run >> '" + marks + "'\n" + script
	}
	return fakeTool(t, name, script)
}

func TestCollectGolden(t *testing.T) {
	for _, tt := range []struct {
		name, vgs, lvs string
		wantLVSRun     bool
	}{
		{name: "two_vgs", vgs: "vgs/two-vgs.json", lvs: "lvs/active-thin-pools.json"},
		{name: "thin_pools", vgs: "vgs/two-vgs-thin-pool.json", lvs: "lvs/active-thin-pools.json", wantLVSRun: true},
		{name: "inactive_thin_pool", vgs: "vgs/two-vgs-thin-pool.json", lvs: "lvs/inactive-thin-pool.json", wantLVSRun: true},
		{name: "no_volume_groups", vgs: "vgs/none.json", lvs: "lvs/active-thin-pools.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			marks := filepath.Join(t.TempDir(), "lvs-runs")
			md, err := collect(t, testConfig(replay(t, "vgs", tt.vgs, ""), replay(t, "lvs", tt.lvs, marks)))
			require.NoError(t, err)
			_, statErr := os.Stat(marks)
			assert.Equal(t, tt.wantLVSRun, statErr == nil, "lvs runs only when a volume group has logical volumes")

			path := filepath.Join("testdata", "expected_metrics", tt.name+".yaml")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				require.NoError(t, golden.WriteMetrics(t, path, md))
			}
			want, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			require.NoError(t, pmetrictest.CompareMetrics(want, md,
				pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(),
				pmetrictest.IgnoreMetricsOrder(), pmetrictest.IgnoreMetricDataPointsOrder()))
		})
	}
}

func TestCollectSumsAndRatios(t *testing.T) {
	md, err := collect(t, testConfig(replay(t, "vgs", "vgs/two-vgs-thin-pool.json", ""), replay(t, "lvs", "lvs/active-thin-pools.json", "")))
	require.NoError(t, err)
	got := series.Of(md)
	// The predecessor's four sums over every volume group.
	assert.Equal(t, float64(130023424+62914560), got[`lvm.vgs_total_capacity{node="test-node"}`])
	assert.Equal(t, float64(130023424+41943040), got[`lvm.vgs_total_free{node="test-node"}`])
	assert.Equal(t, float64(2*1044480), got[`lvm.vgs_metadata_size{node="test-node"}`])
	assert.Equal(t, float64(520704+519680), got[`lvm.vgs_metadata_free{node="test-node"}`])
	assert.Equal(t, 2.0, got[`lvm.volume_groups{node="test-node"}`])
	// Percentages become ratios.
	assert.InDelta(t, 0.2345, got[`lvm.thin_pool.data_usage{lv="pool0",node="test-node",vg="vg_data"}`], 1e-12)
	assert.InDelta(t, 1.0, got[`lvm.thin_pool.data_usage{lv="cachepool",node="test-node",vg="vg_cache"}`], 1e-12)
}

func TestCollectFailures(t *testing.T) {
	okVGs := replay(t, "vgs", "vgs/two-vgs-thin-pool.json", "")
	for _, tt := range []struct {
		name     string
		cfg      *Config
		want     []string
		keepsVGs bool // a failed lvs keeps the volume-group series
	}{
		{
			name: "vgs missing",
			cfg:  testConfig(filepath.Join(t.TempDir(), "no-such-vgs"), "lvs"),
			want: []string{"no-such-vgs", "no such file or directory"},
		},
		{
			name: "vgs not in PATH",
			cfg:  testConfig("otelcol-sealos-no-such-vgs", "lvs"),
			want: []string{"otelcol-sealos-no-such-vgs", "executable file not found"},
		},
		{
			name: "vgs exits non-zero",
			cfg:  testConfig(fakeTool(t, "vgs", `echo '  Volume group "vg0" has insufficient free space' >&2; echo '  Cannot process volume group vg0' >&2; exit 5`), "lvs"),
			want: []string{"exited with status 5", "Cannot process volume group vg0"},
		},
		{
			name: "vgs prints garbage",
			cfg:  testConfig(fakeTool(t, "vgs", `echo 'Reading all physical volumes'`), "lvs"),
			want: []string{"vgs: report is not LVM's JSON"},
		},
		{
			name: "vgs hangs",
			cfg: func() *Config {
				c := testConfig(fakeTool(t, "vgs", "exec sleep 30"), "lvs")
				c.CommandTimeout = 200 * time.Millisecond
				return c
			}(),
			want: []string{"no answer within 200ms (command_timeout), killed"},
		},
		{
			name:     "lvs fails",
			cfg:      testConfig(okVGs, fakeTool(t, "lvs", `echo '  Failed to read metadata' >&2; exit 5`)),
			want:     []string{"lvs", "exited with status 5: Failed to read metadata"},
			keepsVGs: true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			md, err := collect(t, tt.cfg)
			require.Error(t, err)
			assert.Less(t, time.Since(began), 10*time.Second)
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
			got := series.Of(md)
			if !tt.keepsVGs {
				assert.Empty(t, got, "a failed vgs emits no numbers: no zeros, no sums")
				return
			}
			assert.Equal(t, 2.0, got[`lvm.volume_groups{node="test-node"}`])
			assert.Contains(t, got, `lvm.vg.size{node="test-node",vg="vg_data"}`)
			assert.Empty(t, series.WithPrefix(got, "lvm.thin_pool."))
		})
	}
}
