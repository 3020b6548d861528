// Package k8sconfig holds the Kubernetes client settings every otelcol-sealos receiver shares.
package k8sconfig

import (
	"errors"
	"fmt"
	"net"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// AuthType selects how a component authenticates to the Kubernetes API server.
type AuthType string

const (
	// AuthTypeServiceAccount uses the pod's service account (in-cluster config).
	AuthTypeServiceAccount AuthType = "serviceAccount"
	// AuthTypeKubeConfig uses a kubeconfig file (kubeconfig_path, else $KUBECONFIG, else ~/.kube/config).
	AuthTypeKubeConfig AuthType = "kubeConfig"
	// AuthTypeNone talks to KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT without credentials
	// and without verifying the server certificate: for test clusters and local proxies only.
	AuthTypeNone AuthType = "none"
)

// APIConfig is embedded (`mapstructure:",squash"`) in every receiver that reads the Kubernetes API.
type APIConfig struct {
	AuthType       AuthType `mapstructure:"auth_type"`
	KubeConfigPath string   `mapstructure:"kubeconfig_path"`
	// Context picks a kubeconfig context other than the current one.
	Context string  `mapstructure:"context"`
	QPS     float32 `mapstructure:"qps"`
	Burst   int     `mapstructure:"burst"`
}

// NewDefaultAPIConfig returns the in-cluster defaults.
func NewDefaultAPIConfig() APIConfig {
	return APIConfig{AuthType: AuthTypeServiceAccount, QPS: 20, Burst: 40}
}

// Check reports bad settings, naming the offending key. It is not called Validate on purpose:
// the collector's config walker would call it again for the embedded struct, under its Go name.
func (c APIConfig) Check() []error {
	var errs []error
	switch c.AuthType {
	case AuthTypeServiceAccount, AuthTypeNone:
		if c.KubeConfigPath != "" || c.Context != "" {
			errs = append(errs, fmt.Errorf("kubeconfig_path and context need auth_type %q, not %q", AuthTypeKubeConfig, c.AuthType))
		}
	case AuthTypeKubeConfig:
	default:
		errs = append(errs, fmt.Errorf("auth_type: %q is not one of %q, %q, %q", c.AuthType, AuthTypeServiceAccount, AuthTypeKubeConfig, AuthTypeNone))
	}
	if c.QPS < 0 {
		errs = append(errs, fmt.Errorf("qps: must not be negative, got %v", c.QPS))
	}
	if c.Burst < 0 {
		errs = append(errs, fmt.Errorf("burst: must not be negative, got %d", c.Burst))
	}
	if c.QPS > 0 && c.Burst == 0 {
		errs = append(errs, errors.New("burst: must be set when qps is set"))
	}
	return errs
}

// RestConfig builds the client configuration; userAgent names the component in API server logs.
func (c APIConfig) RestConfig(userAgent string) (*rest.Config, error) {
	var (
		rc  *rest.Config
		err error
	)
	switch c.AuthType {
	case AuthTypeServiceAccount:
		rc, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("auth_type %q: not running in a pod with a service account (%w); use auth_type %q outside a cluster", c.AuthType, err, AuthTypeKubeConfig)
		}
	case AuthTypeKubeConfig:
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if c.KubeConfigPath != "" {
			rules.ExplicitPath = c.KubeConfigPath
		}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Context}
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("auth_type %q: cannot load kubeconfig %s: %w", c.AuthType, describeKubeconfig(c.KubeConfigPath), err)
		}
	case AuthTypeNone:
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, fmt.Errorf("auth_type %q: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set", c.AuthType)
		}
		rc = &rest.Config{Host: "https://" + net.JoinHostPort(host, port)}
		rc.Insecure = true
	default:
		return nil, fmt.Errorf("auth_type: unknown value %q", c.AuthType)
	}
	rc.QPS, rc.Burst = c.QPS, c.Burst
	rc.UserAgent = userAgent
	return rc, nil
}

// Client builds a clientset without contacting the API server: one that is down now is a
// recoverable condition for the informers to wait out, not a reason to fail a start. The error
// says which settings were tried, never any credential.
func (c APIConfig) Client(userAgent string) (kubernetes.Interface, *rest.Config, error) {
	rc, err := c.RestConfig(userAgent)
	if err != nil {
		return nil, nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client for %s: %w", rc.Host, err)
	}
	return client, rc, nil
}

func describeKubeconfig(path string) string {
	if path != "" {
		return path
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return "from $KUBECONFIG (" + env + ")"
	}
	return "from ~/.kube/config"
}
