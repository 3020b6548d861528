package watchfileprovider

import (
	"context"
	"os"
	"path/filepath"
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
}
