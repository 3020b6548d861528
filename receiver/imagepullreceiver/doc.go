// Package imagepullreceiver reports failing and slow image pulls from Pod status, and how long
// pulls take per registry and node from the kubelet's Events.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package imagepullreceiver
