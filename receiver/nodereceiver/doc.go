// Package nodereceiver reports Kubernetes node health from node conditions.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package nodereceiver
