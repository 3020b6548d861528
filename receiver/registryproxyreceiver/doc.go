// Package registryproxyreceiver checks Docker Registry v2 / OCI registries, such as pull-through
// proxies: per configured registry it resolves the host and, on every address, calls the /v2/ API
// and fetches one image manifest (following the registry's token challenge).
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package registryproxyreceiver
