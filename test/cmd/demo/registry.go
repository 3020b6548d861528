package main

import (
	"context"
	"fmt"
	"os"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/registrytest"
)

// Loopback registries the registryproxy receiver's demo targets point at (config/demo.yaml).
const (
	demoRegistryAnonymous = "127.0.0.1:5050"   // anonymous pulls
	demoRegistryToken     = "127.0.0.1:5052"   // behind a token service
	demoRegistryPassword  = "demo-pull-secret" // user demo, as in config/demo.yaml
)

// startRegistries starts two Distribution registries with library/busybox:latest pushed; one behind
// a token service. Nothing listens on 127.0.0.1:5051 (the demo's unreachable proxy). They run until
// the demo exits.
func startRegistries(_ context.Context, _ *k8stest.Cluster) error {
	step("starting Distribution registries %s: %s anonymous, %s behind a token service", registrytest.Version, demoRegistryAnonymous, demoRegistryToken)
	tokens, err := registrytest.NewTokenServer(map[string]string{"demo": demoRegistryPassword})
	if err != nil {
		return err
	}
	atExit = append(atExit, tokens.Close)
	for _, r := range []struct {
		addr  string
		token *registrytest.TokenServer
	}{{demoRegistryAnonymous, nil}, {demoRegistryToken, tokens}} {
		dir, err := os.MkdirTemp("", "otelcol-sealos-demo-registry-")
		if err != nil {
			return err
		}
		atExit = append(atExit, func() { _ = os.RemoveAll(dir) })
		reg, err := registrytest.Start(dir, registrytest.Options{Addr: r.addr, Token: r.token})
		if err != nil {
			return fmt.Errorf("registry demo target %s: %w", r.addr, err)
		}
		atExit = append(atExit, reg.Stop)
		if _, err := reg.Push("library/busybox", "latest"); err != nil {
			return err
		}
	}
	return nil
}
