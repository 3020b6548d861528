package lvmtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// AddThinPool adds, through the volume group's metadata (vgcfgbackup, edit, vgcfgrestore), an
// inactive thin pool named pool of dataExtents extents with a one-extent metadata volume, and one
// thin volume of thinExtents extents in it. lvcreate cannot make a thin pool without the kernel's
// device-mapper; this way lvs reports a real, inactive pool on any machine. The pool's volumes
// start at the first extent, so call it once on an empty volume group.
func (vg *VG) AddThinPool(ctx context.Context, pool string, dataExtents, thinExtents int) error {
	backup := filepath.Join(filepath.Dir(vg.File), vg.Name+".vgcfg")
	defer func() { _ = os.Remove(backup) }()
	if _, err := Run(ctx, "vgcfgbackup", "--file", backup, vg.Name); err != nil {
		return err
	}
	raw, err := os.ReadFile(backup)
	if err != nil {
		return err
	}
	text, err := withThinPool(string(raw), pool, dataExtents, thinExtents)
	if err != nil {
		return fmt.Errorf("%s: %w", backup, err)
	}
	if err := os.WriteFile(backup, []byte(text), 0o600); err != nil {
		return err
	}
	_, err = Run(ctx, "vgcfgrestore", noDeviceMapper("--force", "--file", backup, vg.Name)...)
	return err
}

var seqno = regexp.MustCompile(`(?m)^(\s*seqno = )(\d+)$`)

// withThinPool returns the metadata text of a volume group without logical volumes plus the pool,
// its hidden data and metadata volumes, and one thin volume; the sequence number goes up by one.
func withThinPool(text, pool string, dataExtents, thinExtents int) (string, error) {
	if strings.Contains(text, "logical_volumes {") {
		return "", fmt.Errorf("the volume group already has logical volumes")
	}
	m := seqno.FindStringSubmatch(text)
	if m == nil {
		return "", fmt.Errorf("no seqno")
	}
	n, _ := strconv.Atoi(m[2])
	text = seqno.ReplaceAllString(text, "${1}"+strconv.Itoa(n+1))
	end := strings.LastIndex(text, "}")
	if end < 0 {
		return "", fmt.Errorf("no closing brace")
	}
	lvs := fmt.Sprintf(`
	logical_volumes {

		%[1]s {
			id = "%[2]s"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = %[3]d
				type = "thin-pool"
				metadata = "%[1]s_tmeta"
				pool = "%[1]s_tdata"
				transaction_id = 1
				chunk_size = 128
				discards = "passdown"
				zero_new_blocks = 0
			}
		}

		%[1]s_thin {
			id = "%[4]s"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = %[5]d
				type = "thin"
				thin_pool = "%[1]s"
				transaction_id = 0
				device_id = 1
			}
		}

		%[1]s_tdata {
			id = "%[6]s"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = %[3]d
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv0", 0
				]
			}
		}

		%[1]s_tmeta {
			id = "%[7]s"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = 1
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv0", %[3]d
				]
			}
		}
	}
`, pool, lvmUUID(), dataExtents, lvmUUID(), thinExtents, lvmUUID(), lvmUUID())
	return text[:end] + lvs + text[end:], nil
}

// lvmUUID returns an identifier in LVM's format: 32 letters and digits grouped 6-4-4-4-4-4-6.
func lvmUUID() string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [32]byte
	_, _ = rand.Read(b[:])
	var s strings.Builder
	for i, c := range b {
		if i == 6 || i == 10 || i == 14 || i == 18 || i == 22 || i == 26 {
			s.WriteByte('-')
		}
		s.WriteByte(chars[int(c)%len(chars)])
	}
	return s.String()
}
