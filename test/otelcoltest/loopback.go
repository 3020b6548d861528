package otelcoltest

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// CacheDir is where test/services and test/envtest cache what they build:
// $OTELCOL_SEALOS_CACHE, else <user cache dir>/otelcol-sealos.
func CacheDir() string {
	if dir := os.Getenv("OTELCOL_SEALOS_CACHE"); dir != "" {
		return dir
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "otelcol-sealos")
}

// SilentServer accepts TCP connections on loopback and never answers (a hung server); it returns
// its port and closes everything when the test ends.
func SilentServer(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}
