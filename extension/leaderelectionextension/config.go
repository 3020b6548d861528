package leaderelectionextension

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/leaderelection"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
)

// Config is the leader_election extension's configuration.
type Config struct {
	k8sconfig.APIConfig `mapstructure:",squash"`

	// LeaseName is the Lease object's name; empty derives it from the extension's id
	// (leader_election/cluster → otelcol-sealos-cluster), so each instance gets its own lease.
	LeaseName string `mapstructure:"lease_name"`
	// LeaseNamespace defaults to $POD_NAMESPACE, else the service account's namespace, else default.
	LeaseNamespace string `mapstructure:"lease_namespace"`
	// LeaseDuration is how long followers wait after the last renewal before taking over a lease
	// whose holder vanished without releasing it (a crash).
	LeaseDuration time.Duration `mapstructure:"lease_duration"`
	// RenewDeadline is how long the leader keeps retrying a renewal before it gives up leading.
	RenewDeadline time.Duration `mapstructure:"renew_deadline"`
	// RetryPeriod is the pause between attempts to acquire or renew.
	RetryPeriod time.Duration `mapstructure:"retry_period"`
}

// serviceAccountNamespaceFile is where a pod's service account namespace is mounted.
var serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func defaultNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if raw, err := os.ReadFile(serviceAccountNamespaceFile); err == nil {
		if ns := strings.TrimSpace(string(raw)); ns != "" {
			return ns
		}
	}
	return "default"
}

// Validate reports bad settings, naming the key. client-go's own rules apply: the lease outlives
// the renew deadline, and the renew deadline outlives a jittered retry.
func (c *Config) Validate() error {
	errs := c.Check()
	if c.LeaseName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(c.LeaseName) {
			errs = append(errs, fmt.Errorf("lease_name: %q: %s", c.LeaseName, msg))
		}
	}
	if c.LeaseNamespace == "" {
		errs = append(errs, errors.New("lease_namespace: must not be empty"))
	} else {
		for _, msg := range validation.IsDNS1123Label(c.LeaseNamespace) {
			errs = append(errs, fmt.Errorf("lease_namespace: %q: %s", c.LeaseNamespace, msg))
		}
	}
	positive := true
	for key, d := range map[string]time.Duration{"lease_duration": c.LeaseDuration, "renew_deadline": c.RenewDeadline, "retry_period": c.RetryPeriod} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", key, d))
			positive = false
		}
	}
	if !positive {
		return errors.Join(errs...)
	}
	if c.LeaseDuration < time.Second || c.LeaseDuration%time.Second != 0 {
		// The Lease stores whole seconds.
		errs = append(errs, fmt.Errorf("lease_duration: must be a whole number of seconds, at least 1s, got %s", c.LeaseDuration))
	}
	if c.RenewDeadline >= c.LeaseDuration {
		errs = append(errs, fmt.Errorf("renew_deadline: must be less than lease_duration (%s), got %s", c.LeaseDuration, c.RenewDeadline))
	}
	if minDeadline := time.Duration(leaderelection.JitterFactor * float64(c.RetryPeriod)); c.RenewDeadline <= minDeadline {
		errs = append(errs, fmt.Errorf("retry_period: must be less than renew_deadline / %.1f (%s), got %s", leaderelection.JitterFactor, time.Duration(float64(c.RenewDeadline)/leaderelection.JitterFactor), c.RetryPeriod))
	}
	return errors.Join(errs...)
}
