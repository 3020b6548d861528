// Package dbtest gives tests real database servers: the local PostgreSQL, MariaDB and Redis
// (test/services/start.sh starts them), and a FerretDB (MongoDB wire protocol) per test.
package dbtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// FerretDBVersion is the version test/services/build-ferretdb.sh builds.
const FerretDBVersion = "v1.24.0"

// FerretDBBinary is $FERRETDB_BIN, else the cache path build-ferretdb.sh writes.
func FerretDBBinary() string {
	if bin := os.Getenv("FERRETDB_BIN"); bin != "" {
		return bin
	}
	return filepath.Join(otelcoltest.CacheDir(), "ferretdb", FerretDBVersion, "ferretdb")
}

// FerretDB is a running FerretDB with one admin user.
type FerretDB struct {
	Addr     string // 127.0.0.1:port
	Port     int
	User     string
	Password string

	cmd  *exec.Cmd
	out  *otelcoltest.LockedBuffer
	done chan struct{}
	once sync.Once
}

// StartFerretDB starts FerretDB on a free loopback port with SQLite storage in a temp dir and
// the user/password (new authentication: SCRAM); it is stopped when the test ends.
func StartFerretDB(t testing.TB, user, password string) *FerretDB {
	t.Helper()
	if testing.Short() {
		t.Skip("needs FerretDB; skipped with -short")
	}
	bin := FerretDBBinary()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("FerretDB binary %s missing: run test/services/build-ferretdb.sh (or set FERRETDB_BIN)", bin)
	}
	port := otelcoltest.FreePort(t)
	dir := t.TempDir()
	f := &FerretDB{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, User: user, Password: password, out: &otelcoltest.LockedBuffer{}, done: make(chan struct{})}
	f.cmd = exec.Command(bin,
		"--handler=sqlite", "--sqlite-url=file:"+dir+"/",
		"--listen-addr="+f.Addr, "--debug-addr=127.0.0.1:0", "--state-dir="+dir,
		"--test-enable-new-auth", "--setup-database=admin", "--setup-username="+user, "--setup-password="+password,
		"--telemetry=disable", "--log-level=WARN")
	f.cmd.Stdout, f.cmd.Stderr = f.out, f.out
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("starting FerretDB: %v", err)
	}
	go func() { _ = f.cmd.Wait(); close(f.done) }()
	t.Cleanup(f.Stop)
	if err := WaitListening(f.Addr, 30*time.Second, f.done); err != nil {
		t.Fatalf("FerretDB on %s: %v\n%s", f.Addr, err, f.out.String())
	}
	return f
}

// Stop kills FerretDB and waits for it: its port then refuses connections.
func (f *FerretDB) Stop() {
	f.once.Do(func() {
		_ = f.cmd.Process.Kill()
		<-f.done
	})
}

// WaitListening waits until addr accepts TCP connections, up to timeout or until exited closes.
func WaitListening(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited before listening")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not listening after %s", timeout)
}

// ClosedPort is a loopback port that refuses connections.
func ClosedPort(t testing.TB) int { return otelcoltest.FreePort(t) }

// SilentServer accepts TCP connections and never answers (a hung server); it returns its port.
func SilentServer(t testing.TB) int { return otelcoltest.SilentServer(t) }
