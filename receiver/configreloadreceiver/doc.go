// Package configreloadreceiver reports the configuration reload counters of the watching file
// provider (rejected reloads, time of the last successful load). The counters are process-global,
// so they survive reloads, which rebuild this receiver.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package configreloadreceiver
