package lvmreceiver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	require.NoError(t, err)
	return b
}

// The vgs files are real vgs output (LVM 2.03.16) on loop devices, with the receiver's arguments.
func TestParseVGs(t *testing.T) {
	vgs, err := parseVGs(readTestdata(t, "vgs/two-vgs.json"))
	require.NoError(t, err)
	assert.Equal(t, []volumeGroup{
		{name: "vg_cache", size: 130023424, free: 130023424, mdaSize: 1044480, mdaFree: 520704, pvCount: 1},
		{name: "vg_data", size: 62914560, free: 62914560, mdaSize: 1044480, mdaFree: 520704, pvCount: 1},
	}, vgs)

	vgs, err = parseVGs(readTestdata(t, "vgs/none.json"))
	require.NoError(t, err)
	assert.Empty(t, vgs)
}

func TestParseThinPools(t *testing.T) {
	// Real lvs output: a pool that is not active has no usage (LVM prints "").
	pools, err := parseThinPools(readTestdata(t, "lvs/inactive-thin-pool.json"))
	require.NoError(t, err)
	assert.Equal(t, []thinPool{{vg: "vg_data", name: "pool0", size: 16777216, metadataSize: 4194304}}, pools)

	pools, err = parseThinPools(readTestdata(t, "lvs/active-thin-pools.json"))
	require.NoError(t, err)
	require.Len(t, pools, 2)
	assert.True(t, pools[0].hasDataUsage)
	assert.InDelta(t, 1.0, pools[0].dataUsage, 1e-12)
	assert.InDelta(t, 0.0234, pools[0].metadataUsage, 1e-12)
	assert.InDelta(t, 0.2345, pools[1].dataUsage, 1e-12)
	assert.InDelta(t, 0.1172, pools[1].metadataUsage, 1e-12)
}

func TestParseErrorsNameTheField(t *testing.T) {
	for name, tt := range map[string]struct {
		vgs, lvs string
		want     string
	}{
		"not json":         {vgs: "  Volume group \"x\" not found", want: "vgs: report is not LVM's JSON"},
		"size with suffix": {vgs: `{"report":[{"vg":[{"vg_name":"a","vg_size":"10.00g","vg_free":"0","vg_mda_size":"0","vg_mda_free":"0","pv_count":"1","lv_count":"0"}]}]}`, want: `vgs: volume group "a": vg_size "10.00g" is not a whole number`},
		"missing field":    {vgs: `{"report":[{"vg":[{"vg_name":"a","vg_size":"1"}]}]}`, want: `vgs: volume group "a": no field vg_free in the report`},
		"bad percentage":   {lvs: `{"report":[{"lv":[{"vg_name":"a","lv_name":"p","lv_size":"1","lv_metadata_size":"1","data_percent":"x","metadata_percent":""}]}]}`, want: `lvs: thin pool "a/p": data_percent "x" is not a percentage`},
		"lvs not json":     {lvs: "{", want: "lvs: report is not LVM's JSON"},
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			if tt.vgs != "" {
				_, err = parseVGs([]byte(tt.vgs))
			} else {
				_, err = parseThinPools([]byte(tt.lvs))
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
