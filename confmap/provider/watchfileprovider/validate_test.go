package watchfileprovider

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"otelcol-sealos", "--config=/c.yaml"}, ""},
		{[]string{"otelcol-sealos", "--config", "/c.yaml", "--set", "a=b"}, ""},
		{[]string{"otelcol-sealos", "validate", "--config=/c.yaml"}, "validate"},
		{[]string{"otelcol-sealos", "--config", "validate"}, ""},
		{[]string{"otelcol-sealos", "--feature-gates", "x", "print-config", "--config=/c"}, "print-config"},
		{[]string{"otelcol-sealos", "components"}, "components"},
	} {
		assert.Equal(t, tc.want, subcommand(tc.args), "%v", tc.args)
	}
}

func TestOneShotRun(t *testing.T) {
	none := func(string) string { return "" }
	child := func(k string) string {
		if k == validatingEnv {
			return "1"
		}
		return ""
	}
	assert.False(t, oneShotRun([]string{"c", "--config=x"}, none))
	assert.True(t, oneShotRun([]string{"c", "validate", "--config=x"}, none))
	assert.True(t, oneShotRun([]string{"c", "--config=x"}, child))
}

func TestChildMessage(t *testing.T) {
	out := "2026-01-01T00:00:00Z info something\nError: invalid configuration: receivers::node: ignore_new_node_duration: must not be negative\n"
	assert.Equal(t, "invalid configuration: receivers::node: ignore_new_node_duration: must not be negative", childMessage(out))
	assert.Equal(t, "validate failed without a message", childMessage(" \n"))
}

// The real validator re-executes this binary; a shell script in its place shows the arguments and
// environment it gets, and that a failing child's message becomes the error.
func TestExecValidatorRunsValidateWithSameFlags(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-collector")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho \"args: $*\" >&2\necho \"env: $"+validatingEnv+"\" >&2\necho 'Error: bad key receivers::x' >&2\nexit 1\n"), 0o755))
	v := execValidatorFor(script, []string{"otelcol-sealos", "--config=/c.yaml", "--set=a=b"}, []string{"PATH=/usr/bin:/bin"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := v(ctx)
	require.EqualError(t, err, "bad key receivers::x")

	ok := filepath.Join(dir, "ok-collector")
	require.NoError(t, os.WriteFile(ok, []byte("#!/bin/sh\n[ \"$1\" = validate ] && [ \"$2\" = --config=/c.yaml ] && [ \"$"+validatingEnv+"\" = 1 ]\n"), 0o755))
	require.NoError(t, execValidatorFor(ok, []string{"otelcol-sealos", "--config=/c.yaml"}, nil)(ctx))
}

func TestExecValidatorTimeout(t *testing.T) {
	dir := t.TempDir()
	slow := filepath.Join(dir, "slow-collector")
	require.NoError(t, os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := execValidatorFor(slow, []string{"c"}, nil)(ctx)
	require.ErrorContains(t, err, "validate did not finish")
	require.ErrorIs(t, err, errInconclusive, "a timeout is no verdict on the configuration")
}

// A child killed by a signal (OOM killer, a stuck child cleaned up) gave no verdict; a child
// that exited with an error did.
func TestExecValidatorKilledChildIsInconclusive(t *testing.T) {
	dir := t.TempDir()
	killed := filepath.Join(dir, "killed-collector")
	require.NoError(t, os.WriteFile(killed, []byte("#!/bin/sh\nkill -KILL $$\n"), 0o755))
	err := execValidatorFor(killed, []string{"c"}, nil)(t.Context())
	require.ErrorIs(t, err, errInconclusive)

	invalid := filepath.Join(dir, "invalid-collector")
	require.NoError(t, os.WriteFile(invalid, []byte("#!/bin/sh\necho 'Error: bad' >&2\nexit 1\n"), 0o755))
	err = execValidatorFor(invalid, []string{"c"}, nil)(t.Context())
	require.EqualError(t, err, "bad")
	require.NotErrorIs(t, err, errInconclusive)

	err = execValidatorFor(filepath.Join(dir, "missing"), []string{"c"}, nil)(t.Context())
	require.ErrorIs(t, err, errInconclusive, "a binary that cannot run is no verdict either")
}

// roleEnv makes this test binary play the collector in TestValidatorRunsTheRunningImage.
const roleEnv = "WATCHFILEPROVIDER_TEST_ROLE"

// playCollector resolves the validator as the provider does at start-up, waits for a line on
// stdin (meanwhile the test replaces the binary on disk), validates, and prints the outcome.
func playCollector() {
	validate := execValidator([]string{os.Args[0], "--config=/c.yaml"}, os.Environ())
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := validate(ctx); err != nil {
		fmt.Println("validate:", err)
		os.Exit(1)
	}
	fmt.Println("validated by the running image")
	os.Exit(0)
}

// An upgrade replaces the binary on disk while the collector runs: validation must still run the
// image that is running (the one whose components and flags the configuration is for).
func TestValidatorRunsTheRunningImage(t *testing.T) {
	if _, err := os.Stat(procSelfExe); err != nil {
		t.Skip("needs " + procSelfExe)
	}
	self, err := os.Executable()
	require.NoError(t, err)
	image, err := os.ReadFile(self)
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "otelcol-sealos")
	require.NoError(t, os.WriteFile(bin, image, 0o755))

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), roleEnv+"=collector")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var out strings.Builder
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	require.True(t, lines.Scan())
	require.Equal(t, "ready", lines.Text())

	replacement := bin + ".new"
	require.NoError(t, os.WriteFile(replacement, []byte("#!/bin/sh\necho 'Error: ran the binary on disk, not the running image' >&2\nexit 1\n"), 0o755))
	require.NoError(t, os.Rename(replacement, bin))
	_, err = io.WriteString(stdin, "go\n")
	require.NoError(t, err)
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
	}
	require.NoError(t, cmd.Wait(), out.String())
	assert.Equal(t, "validated by the running image\n", out.String())
}
