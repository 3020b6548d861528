// Package secretref reads one key of a Kubernetes Secret: a credential configured by reference
// (`dsn_secret: {namespace, name, key}`) instead of inline, read at every use so a rotated Secret
// is picked up without a restart.
package secretref

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Ref names one key of a Secret.
type Ref struct {
	Namespace string `mapstructure:"namespace"`
	Name      string `mapstructure:"name"`
	Key       string `mapstructure:"key"`
}

// Check reports every missing field, each error starting with path (the key of the Ref).
func (r *Ref) Check(path string) []error {
	var errs []error
	for _, f := range []struct{ key, value string }{{"namespace", r.Namespace}, {"name", r.Name}, {"key", r.Key}} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("%s.%s: must be set", path, f.key))
		}
	}
	return errs
}

// String names the key for messages: namespace/name key k.
func (r *Ref) String() string { return fmt.Sprintf("Secret %s/%s key %s", r.Namespace, r.Name, r.Key) }

// Read returns the key's value without surrounding white space. Errors name the Secret and the
// key, never the data.
func (r *Ref) Read(ctx context.Context, client kubernetes.Interface) (string, error) {
	secret, err := client.CoreV1().Secrets(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", r, err)
	}
	v := strings.TrimSpace(string(secret.Data[r.Key]))
	if v == "" {
		return "", fmt.Errorf("%s: the key is missing or empty", r)
	}
	return v, nil
}
