// Package userbalancereceiver reports the balances of configured Sealos users from the billing
// PostgreSQL database (the "User" and "Account" tables).
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package userbalancereceiver
