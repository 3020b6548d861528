// Package databasereceiver checks that the databases KubeBlocks runs accept a real, authenticated
// connection, and reports why when they do not.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package databasereceiver
