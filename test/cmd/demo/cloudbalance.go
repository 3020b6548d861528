package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

// cloudCAEnv is the variable config/demo.yaml's cloudbalance accounts read their tls.ca_file from.
const cloudCAEnv = "DEMO_CLOUD_CA_FILE"

// The stand-ins of the providers' billing APIs and the key pairs they accept (config/demo.yaml).
var demoClouds = []struct {
	provider, addr string
	account        cloudtest.Account
}{
	{"alicloud", "127.0.0.1:9446", cloudtest.Account{ID: "LTAIdemo0001", Secret: "demo-ali-secret",
		Replies: []cloudtest.Reply{{Balance: "12,345.67", Currency: "CNY"}}}},
	{"tencentcloud", "127.0.0.1:9447", cloudtest.Account{ID: "AKIDdemo0001", Secret: "demo-tc-secret",
		Replies: []cloudtest.Reply{{Balance: "8800050"}}}}, // fen: 88,000.50 yuan
	// config/demo.yaml signs with another secret: the signature check fails (error_type auth).
	{"volcengine", "127.0.0.1:9448", cloudtest.Account{ID: "AKLTdemo0001", Secret: "demo-volc-secret",
		Replies: []cloudtest.Reply{{Balance: "5,000.50"}}}},
}

// startCloudAPIs serves the three providers' billing APIs on loopback HTTPS (test/cloudtest: their
// wire formats, signatures checked) and exports a file with their certificates as
// DEMO_CLOUD_CA_FILE. They run until the demo exits.
func startCloudAPIs(_ context.Context, _ *k8stest.Cluster) error {
	step("serving cloud billing APIs for the cloudbalance receiver: Alibaba Cloud on %s, Tencent Cloud on %s, VolcEngine on %s (the demo config signs VolcEngine with a wrong secret)",
		demoClouds[0].addr, demoClouds[1].addr, demoClouds[2].addr)
	dir, err := os.MkdirTemp("", "otelcol-sealos-demo-clouds-")
	if err != nil {
		return err
	}
	atExit = append(atExit, func() { _ = os.RemoveAll(dir) })
	var bundle []byte
	for _, c := range demoClouds {
		srv, err := cloudtest.Start(c.provider, c.addr, dir)
		if err != nil {
			return fmt.Errorf("cloudbalance demo target: %w", err)
		}
		atExit = append(atExit, srv.Close)
		srv.Set(c.account)
		ca, err := os.ReadFile(srv.CAFile)
		if err != nil {
			return err
		}
		bundle = append(bundle, ca...)
	}
	caFile := filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(caFile, bundle, 0o600); err != nil {
		return err
	}
	return os.Setenv(cloudCAEnv, caFile)
}
