// Package statusextension serves, on its own HTTP endpoint, what each receiver is doing (running,
// standby while another replica leads, starting, failed with the last error), who holds each
// leader_election lease, and liveness and readiness probes that an outside outage cannot fail.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package statusextension
