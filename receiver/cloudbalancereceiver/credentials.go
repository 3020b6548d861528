package cloudbalancereceiver

import (
	"context"
	"fmt"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// keyPair is an access key pair; both halves are secret.
type keyPair struct{ id, secret string }

// resolveCredentials returns the account's key pair from its one source. Environment variables and
// Secrets are read every cycle, so a rotated key is used from the next cycle on. Errors name the
// source, never a value.
func resolveCredentials(ctx context.Context, a *Account, secrets *secretReader, getenv func(string) string) (keyPair, error) {
	switch {
	case a.AccessKeyID != "":
		return keyPair{id: string(a.AccessKeyID), secret: string(a.AccessKeySecret)}, nil
	case a.AccessKeyIDEnv != "":
		c := keyPair{id: getenv(a.AccessKeyIDEnv), secret: getenv(a.AccessKeySecretEnv)}
		for _, v := range []struct{ key, name, value string }{
			{"access_key_id_env", a.AccessKeyIDEnv, c.id},
			{"access_key_secret_env", a.AccessKeySecretEnv, c.secret},
		} {
			if v.value == "" {
				return keyPair{}, fmt.Errorf("%s: environment variable %s is not set or empty", v.key, v.name)
			}
		}
		return c, nil
	default:
		ref := a.CredentialsSecret
		data, err := secrets.get(ctx, ref.Namespace, ref.Name)
		if err != nil {
			return keyPair{}, err
		}
		c := keyPair{id: strings.TrimSpace(string(data[ref.idKey()])), secret: strings.TrimSpace(string(data[ref.secretKey()]))}
		for _, v := range []struct{ key, value string }{{ref.idKey(), c.id}, {ref.secretKey(), c.secret}} {
			if v.value == "" {
				return keyPair{}, fmt.Errorf("credentials_secret: Secret %s/%s has no key %q or it is empty", ref.Namespace, ref.Name, v.key)
			}
		}
		return c, nil
	}
}

// secretReader reads each referenced Secret at most once per cycle (accounts can share one), with
// a GET: the values are needed only when a cycle runs, so a read then is as fresh as a watch would
// be, needs only `get` (which RBAC can restrict to the named Secrets), and keeps no Secret data in
// memory between cycles.
type secretReader struct {
	client kubernetes.Interface
	mu     sync.Mutex
	reads  map[string]*secretRead
}

type secretRead struct {
	done chan struct{}
	data map[string][]byte
	err  error
}

func newSecretReader(client kubernetes.Interface) *secretReader {
	return &secretReader{client: client, reads: map[string]*secretRead{}}
}

// get returns the Secret's data; the first caller reads it within its own context, later callers
// of the same cycle wait for that read.
func (r *secretReader) get(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	key := namespace + "/" + name
	r.mu.Lock()
	read, started := r.reads[key]
	if !started {
		read = &secretRead{done: make(chan struct{})}
		r.reads[key] = read
	}
	r.mu.Unlock()
	if !started {
		secret, err := r.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			// API errors name the object and the reason, never its data.
			read.err = fmt.Errorf("credentials_secret: reading Secret %s: %w", key, err)
		} else {
			read.data = secret.Data
		}
		close(read.done)
	}
	select {
	case <-read.done:
		return read.data, read.err
	case <-ctx.Done():
		return nil, fmt.Errorf("credentials_secret: reading Secret %s: %w", key, ctx.Err())
	}
}
