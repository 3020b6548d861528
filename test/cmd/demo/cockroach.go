package main

import (
	"context"
	"time"

	"github.com/labring/otelcol-sealos/test/cockroachtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

// startCockroachClusters serves the PostgreSQL wire protocol on 127.0.0.1:26257-26260 as four
// CockroachDB clusters would answer SHOW CLUSTER SETTING enterprise.license (config/demo.yaml): a
// valid Enterprise license, a Trial ending in 3 days, an Evaluation that expired 10 days ago, and
// no license. They run until the demo exits.
func startCockroachClusters(_ context.Context, _ *k8stest.Cluster) error {
	step("serving CockroachDB license answers on 127.0.0.1:26257 (valid), :26258 (ends in 3 days), :26259 (expired), :26260 (none)")
	day := 24 * time.Hour
	now := time.Now()
	id := []byte("demo-license-id!") // 16 bytes: a UUID
	org := []byte("demo-org-id-0001")
	for addr, license := range map[string]string{
		"127.0.0.1:26257": cockroachtest.License{ValidUntil: now.Add(365 * day), Type: cockroachtest.TypeEnterprise, OrganizationName: "Sealos Demo",
			Environment: cockroachtest.EnvProduction, LicenseID: id, OrganizationID: org}.Encode(),
		"127.0.0.1:26258": cockroachtest.License{ValidUntil: now.Add(3 * day), Type: cockroachtest.TypeTrial, OrganizationName: "Sealos Demo", Environment: cockroachtest.EnvPreProduction}.Encode(),
		"127.0.0.1:26259": cockroachtest.License{ValidUntil: now.Add(-10 * day), Type: cockroachtest.TypeEvaluation, OrganizationName: "Sealos Demo", Environment: cockroachtest.EnvDevelopment}.Encode(),
		"127.0.0.1:26260": "",
	} {
		s, err := cockroachtest.Start(addr, "monitor", "demo")
		if err != nil {
			return err
		}
		s.SetLicense(license)
		atExit = append(atExit, s.Stop)
	}
	return nil
}
