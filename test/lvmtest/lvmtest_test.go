package lvmtest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateAddThinPoolRemove(t *testing.T) {
	Require(t)
	ctx := context.Background()
	vg, err := Create(ctx, t.TempDir(), "selftest", 64<<20)
	require.NoError(t, err)
	removed := false
	t.Cleanup(func() {
		if !removed {
			_ = vg.Remove()
		}
	})
	out, err := Run(ctx, "vgs", "--noheadings", "--units", "b", "--nosuffix", "-o", "vg_size,pv_count", vg.Name)
	require.NoError(t, err)
	assert.Equal(t, []string{"62914560", "1"}, strings.Fields(string(out)), "64 MiB minus LVM's metadata area and the partial extent")

	require.NoError(t, vg.AddThinPool(ctx, "pool", 4, 8))
	out, err = Run(ctx, "lvs", "--noheadings", "-a", "--units", "b", "--nosuffix", "-o", "lv_name,segtype,lv_size", vg.Name)
	require.NoError(t, err)
	text := string(out)
	assert.Regexp(t, `pool\s+thin-pool\s+16777216`, text)
	assert.Regexp(t, `pool_thin\s+thin\s+33554432`, text)
	assert.Contains(t, text, "[pool_tdata]")
	assert.Contains(t, text, "[pool_tmeta]")

	require.NoError(t, vg.Remove())
	removed = true
	out, err = Run(ctx, "vgs", "--noheadings", "-o", "vg_name")
	require.NoError(t, err)
	assert.NotContains(t, string(out), vg.Name)
	out, err = Run(ctx, "losetup", "--list", "--noheadings", "-O", "NAME")
	require.NoError(t, err)
	assert.NotContains(t, strings.Fields(string(out)), vg.Device, "the loop device is detached")
	assert.NoFileExists(t, vg.File)
}

func TestWithThinPoolRefusesVolumeGroupsWithVolumes(t *testing.T) {
	_, err := withThinPool("vg {\n\tseqno = 3\n\tlogical_volumes {\n\t}\n}\n", "pool", 1, 1)
	assert.ErrorContains(t, err, "already has logical volumes")
	text, err := withThinPool("vg {\n\tseqno = 3\n}\n", "pool", 4, 8)
	require.NoError(t, err)
	assert.Contains(t, text, "seqno = 4")
	assert.Contains(t, text, `type = "thin-pool"`)
	assert.Regexp(t, `"pv0", 4\n`, text, "the metadata volume follows the data extents")
}
