// Package lvmreceiver reports the volume groups and thin pools of the node it runs on, from LVM's
// own JSON report (vgs, lvs).
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package lvmreceiver
