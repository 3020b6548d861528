package dbtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// PrivatePostgres is a PostgreSQL server of the test's own (initdb in a temporary folder, trust
// auth, loopback), so the test can stop and start it without touching the shared local server.
type PrivatePostgres struct {
	Port int
	dir  string
	bin  string
	t    testing.TB
}

// StartPrivatePostgres initialises and starts one; it is stopped and removed when the test ends.
// PostgreSQL refuses to run as root, so as root it runs as the postgres user (skipped without one).
func StartPrivatePostgres(t testing.TB) *PrivatePostgres {
	t.Helper()
	skipShort(t)
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin): run test/services/start.sh")
	}
	account, err := user.Lookup("postgres")
	if os.Geteuid() == 0 && err != nil {
		t.Skip("running as root without a postgres user to run PostgreSQL as")
	}
	dir, err := os.MkdirTemp("", "otelcol-sealos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		uid, _ := strconv.Atoi(account.Uid)
		gid, _ := strconv.Atoi(account.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	p := &PrivatePostgres{Port: otelcoltest.FreePort(t), dir: dir, bin: filepath.Dir(bins[0]), t: t}
	p.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync")
	p.Start()
	t.Cleanup(func() { _ = p.pgCtl("stop", "-m", "immediate") })
	return p
}

// Addr is host:port of the server.
func (p *PrivatePostgres) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.Port) }

// Start starts the server and waits until it accepts connections.
func (p *PrivatePostgres) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.Port, p.dir)
	if err := p.pgCtl("start", "-w", "-t", "60", "-l", filepath.Join(p.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		p.t.Fatalf("starting PostgreSQL: %v\n%s", err, log)
	}
}

// Stop stops it the way an operator's fast shutdown does: sessions are ended, not waited for.
func (p *PrivatePostgres) Stop() {
	p.t.Helper()
	if err := p.pgCtl("stop", "-w", "-m", "fast"); err != nil {
		p.t.Fatalf("stopping PostgreSQL: %v", err)
	}
}

func (p *PrivatePostgres) pgCtl(args ...string) error {
	return p.command("pg_ctl", append([]string{"-D", filepath.Join(p.dir, "data")}, args...)...).Run()
}

func (p *PrivatePostgres) run(name string, args ...string) {
	p.t.Helper()
	if out, err := p.command(name, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// command runs a server binary, as the postgres user when we are root.
func (p *PrivatePostgres) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}
