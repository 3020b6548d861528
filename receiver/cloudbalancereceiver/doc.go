// Package cloudbalancereceiver reports the account balances of Alibaba Cloud, Tencent Cloud and
// VolcEngine accounts through the providers' official Go SDKs.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package cloudbalancereceiver
