// Package zombiereceiver reports zombie (defunct) processes on the node it runs on, attributed to
// their container and pod.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package zombiereceiver
