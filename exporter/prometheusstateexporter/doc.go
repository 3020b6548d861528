// Package prometheusstateexporter serves metrics for Prometheus to scrape, like the contrib
// prometheus exporter (same names, labels and configuration), but keeps every series rendered
// as exposition text so that a scrape copies bytes instead of converting every series again.
//
//go:generate mdatagen metadata.yaml
package prometheusstateexporter
