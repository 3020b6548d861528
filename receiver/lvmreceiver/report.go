package lvmreceiver

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The fields asked of vgs and lvs: explicit, so a new LVM release adding columns changes nothing,
// and sizes in bytes without a suffix (--units b --nosuffix).
var (
	vgsArgs = []string{"--reportformat", "json", "--units", "b", "--nosuffix",
		"-o", "vg_name,vg_size,vg_free,vg_mda_size,vg_mda_free,pv_count,lv_count"}
	lvsArgs = []string{"--reportformat", "json", "--units", "b", "--nosuffix",
		"--select", "segtype=thin-pool",
		"-o", "vg_name,lv_name,lv_size,lv_metadata_size,data_percent,metadata_percent"}
)

// volumeGroup is one row of the vgs report.
type volumeGroup struct {
	name                         string
	size, free, mdaSize, mdaFree int64
	pvCount, lvCount             int64
}

// thinPool is one thin-pool row of the lvs report; usage is known only for an active pool.
type thinPool struct {
	vg, name                   string
	size, metadataSize         int64
	dataUsage, metadataUsage   float64
	hasDataUsage, hasMetaUsage bool
}

// LVM's JSON report: every value is a string, one report per command (as of LVM 2.03).
type vgsReport struct {
	Report []struct {
		VG []map[string]string `json:"vg"`
	} `json:"report"`
}

type lvsReport struct {
	Report []struct {
		LV []map[string]string `json:"lv"`
	} `json:"report"`
}

func parseVGs(out []byte) ([]volumeGroup, error) {
	var rep vgsReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("vgs: report is not LVM's JSON: %w", err)
	}
	var vgs []volumeGroup
	for _, r := range rep.Report {
		for _, row := range r.VG {
			f := fields{row: row, what: "vgs: volume group " + strconv.Quote(row["vg_name"])}
			vgs = append(vgs, volumeGroup{
				name:    f.str("vg_name"),
				size:    f.int("vg_size"),
				free:    f.int("vg_free"),
				mdaSize: f.int("vg_mda_size"),
				mdaFree: f.int("vg_mda_free"),
				pvCount: f.int("pv_count"),
				lvCount: f.int("lv_count"),
			})
			if f.err != nil {
				return nil, f.err
			}
		}
	}
	return vgs, nil
}

func parseThinPools(out []byte) ([]thinPool, error) {
	var rep lvsReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("lvs: report is not LVM's JSON: %w", err)
	}
	var pools []thinPool
	for _, r := range rep.Report {
		for _, row := range r.LV {
			f := fields{row: row, what: "lvs: thin pool " + strconv.Quote(row["vg_name"]+"/"+row["lv_name"])}
			p := thinPool{vg: f.str("vg_name"), name: f.str("lv_name"), size: f.int("lv_size"), metadataSize: f.int("lv_metadata_size")}
			p.dataUsage, p.hasDataUsage = f.percent("data_percent")
			p.metadataUsage, p.hasMetaUsage = f.percent("metadata_percent")
			if f.err != nil {
				return nil, f.err
			}
			pools = append(pools, p)
		}
	}
	return pools, nil
}

// fields reads one report row, keeping the first error.
type fields struct {
	row  map[string]string
	what string
	err  error
}

func (f *fields) str(key string) string {
	v, ok := f.row[key]
	if !ok && f.err == nil {
		f.err = fmt.Errorf("%s: no field %s in the report", f.what, key)
	}
	return v
}

func (f *fields) int(key string) int64 {
	s := f.str(key)
	if f.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f.err = fmt.Errorf("%s: %s %q is not a whole number", f.what, key, s)
	}
	return n
}

// percent reads LVM's 0-100 percentage as a 0-1 ratio; an empty field (an inactive pool) is unknown.
func (f *fields) percent(key string) (float64, bool) {
	s := f.str(key)
	if f.err != nil || s == "" {
		return 0, false
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil {
		f.err = fmt.Errorf("%s: %s %q is not a percentage", f.what, key, s)
		return 0, false
	}
	return p / 100, true
}
