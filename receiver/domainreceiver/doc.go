// Package domainreceiver reports, per domain and per resolved address, DNS resolution, TLS
// certificate validity and expiry, and HTTPS health.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package domainreceiver
