// Package registrytest runs the CNCF Distribution registry (built by test/services/build-registry.sh)
// on loopback: plain HTTP or HTTPS, anonymous or behind a token service it also provides, with
// images pushed over the registry's own HTTP API.
package registrytest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// Version is the registry version test/services/build-registry.sh builds.
const Version = "v3.1.1"

// Binary is $REGISTRY_BIN, else the cache path build-registry.sh writes.
func Binary() string {
	if bin := os.Getenv("REGISTRY_BIN"); bin != "" {
		return bin
	}
	return filepath.Join(otelcoltest.CacheDir(), "registry", Version, "registry")
}

// Options say how the registry serves.
type Options struct {
	// Addr to listen on; empty: a free loopback port.
	Addr string
	// CertPEM and KeyPEM make it serve HTTPS; Client must then trust the certificate.
	CertPEM, KeyPEM []byte
	Client          *http.Client
	// Token puts the registry behind this token service.
	Token *TokenServer
}

// Registry is a running registry.
type Registry struct {
	Addr string // 127.0.0.1:port
	URL  string // http(s)://Addr

	client *http.Client
	token  *TokenServer
	cmd    *exec.Cmd
	out    *lockedBuffer
	done   chan struct{}
	once   sync.Once
}

// Start starts a registry with its storage under dir.
func Start(dir string, opts Options) (*Registry, error) {
	bin := Binary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("registry binary %s missing: run test/services/build-registry.sh (or set REGISTRY_BIN)", bin)
	}
	addr := opts.Addr
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr = l.Addr().String()
		_ = l.Close()
	}
	r := &Registry{Addr: addr, URL: "http://" + addr, client: opts.Client, token: opts.Token, out: &lockedBuffer{}, done: make(chan struct{})}
	if r.client == nil {
		r.client = &http.Client{Timeout: 10 * time.Second}
	}
	config, err := writeConfig(dir, addr, opts)
	if err != nil {
		return nil, err
	}
	if opts.CertPEM != nil {
		r.URL = "https://" + addr
	}
	r.cmd = exec.Command(bin, "serve", config)
	// No trace export: the registry would otherwise try an OTLP endpoint.
	r.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the registry: %w", err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	if err := r.waitReady(30 * time.Second); err != nil {
		r.Stop()
		return nil, fmt.Errorf("registry on %s: %w\n%s", addr, err, r.out.String())
	}
	return r, nil
}

// StartT starts a registry for the test and stops it at its end.
func StartT(t testing.TB, opts Options) *Registry {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the registry binary; skipped with -short")
	}
	r, err := Start(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// Stop kills the registry and waits for it: its port then refuses connections.
func (r *Registry) Stop() {
	r.once.Do(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
}

// Output is what the registry logged.
func (r *Registry) Output() string { return r.out.String() }

// waitReady polls GET /v2/ until the registry answers (401 counts: it is up).
func (r *Registry) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := r.client.Get(r.URL + "/v2/")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-r.done:
			return fmt.Errorf("exited before serving")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not serving /v2/ after %s", timeout)
}

func writeConfig(dir, addr string, opts Options) (string, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
http:
  addr: %q
  secret: %q
`, filepath.Join(dir, "storage"), addr, hex.EncodeToString(secret))
	if opts.CertPEM != nil {
		cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		if err := os.WriteFile(cert, opts.CertPEM, 0o600); err != nil {
			return "", err
		}
		if err := os.WriteFile(key, opts.KeyPEM, 0o600); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  tls:\n    certificate: %q\n    key: %q\n", cert, key)
	}
	if t := opts.Token; t != nil {
		bundle := filepath.Join(dir, "token-root.pem")
		if err := os.WriteFile(bundle, t.CertPEM(), 0o600); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "auth:\n  token:\n    realm: %q\n    service: %q\n    issuer: %q\n    rootcertbundle: %q\n", t.Realm(), t.Service, t.Issuer, bundle)
	}
	path := filepath.Join(dir, "config.yml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
