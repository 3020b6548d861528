package k8stest

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// InstallCRDs installs the CustomResourceDefinitions in the given YAML files or folders and waits
// until the API server serves them.
func (c *Cluster) InstallCRDs(paths ...string) error {
	_, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true})
	if err != nil {
		return fmt.Errorf("installing CRDs from %v: %w", paths, err)
	}
	return nil
}
