// Package crdsreceiver turns fields of custom resources into metrics declared in config.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package crdsreceiver
