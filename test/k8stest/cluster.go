// Package k8stest starts a real Kubernetes API server (kube-apiserver + etcd through
// controller-runtime's envtest) for tests and the demo.
package k8stest

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// Versions of the binaries built by test/envtest/build-assets.sh.
const (
	KubernetesVersion = "1.35.4"
	EtcdVersion       = "3.6.6"
)

// Cluster is a running API server with an admin identity.
type Cluster struct {
	Config *rest.Config
	Client kubernetes.Interface
	// Dynamic reaches any resource, custom ones included.
	Dynamic dynamic.Interface
	// Kubeconfig is the path of a kubeconfig file for the admin identity, for components under test.
	Kubeconfig string
	env        *envtest.Environment
}

// AssetsDir is $KUBEBUILDER_ASSETS when set, else the cache folder build-assets.sh fills.
func AssetsDir() string {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	return filepath.Join(otelcoltest.CacheDir(), "envtest", fmt.Sprintf("k8s-%s-etcd-%s", KubernetesVersion, EtcdVersion))
}

// Start starts an API server; dir receives the kubeconfig. Stop it with Stop.
func Start(dir string) (*Cluster, error) {
	assets := AssetsDir()
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return nil, fmt.Errorf("envtest binary %s missing in %s: run `make envtest-assets` (or set KUBEBUILDER_ASSETS)", bin, assets)
		}
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, ControlPlaneStartTimeout: 2 * time.Minute}
	// A certificate folder of our own survives a restart of the API server (envtest's own is
	// removed on stop), so a restarted server keeps its serving certificate and clients stay valid.
	certDir, err := os.MkdirTemp(dir, "apiserver-")
	if err != nil {
		return nil, err
	}
	env.ControlPlane.GetAPIServer().CertDir = certDir
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest API server: %w", err)
	}
	c := &Cluster{Config: cfg, env: env}
	if err := c.init(dir); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) init(dir string) error {
	var err error
	if c.Kubeconfig, err = c.KubeconfigFor(dir, "otelcol-sealos-test", "system:masters"); err != nil {
		return err
	}
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}
	c.Dynamic, err = dynamic.NewForConfig(c.Config)
	return err
}

// KubeconfigFor writes, in dir, a kubeconfig for a user in groups (none: a user RBAC denies
// everything) and returns its path.
func (c *Cluster) KubeconfigFor(dir, name string, groups ...string) (string, error) {
	user, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", fmt.Errorf("adding envtest user %s: %w", name, err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".kubeconfig")
	return path, os.WriteFile(path, kubeconfig, 0o600)
}

// Stop stops the API server and etcd.
func (c *Cluster) Stop() error { return c.env.Stop() }
