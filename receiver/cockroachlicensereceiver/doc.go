// Package cockroachlicensereceiver reads the enterprise license of CockroachDB clusters (SHOW
// CLUSTER SETTING enterprise.license over the PostgreSQL wire protocol) and reports its type,
// organization and expiry.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package cockroachlicensereceiver
