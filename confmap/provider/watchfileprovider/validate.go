package watchfileprovider // import "github.com/labring/otelcol-sealos/confmap/provider/watchfileprovider"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// validatingEnv marks the child `validate` process, which must not watch (nor validate) itself.
const validatingEnv = "OTELCOL_SEALOS_VALIDATING"

// valueFlags are the collector's flags that take a separate value (`--config x`).
var valueFlags = map[string]bool{"config": true, "set": true, "feature-gates": true}

// execValidator runs this very binary as `<binary> validate <the same flags>` with the same
// environment: exactly the checks of the `validate` subcommand (YAML, providers and converters,
// unknown components, every component's Validate, pipelines), against the files as they are now.
func execValidator(args, env []string) Validator {
	exe, err := os.Executable()
	if err != nil {
		return func(context.Context) error {
			return fmt.Errorf("cannot find the collector binary to validate with: %w", err)
		}
	}
	return execValidatorFor(exe, args, env)
}

func execValidatorFor(exe string, args, env []string) Validator {
	return func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, exe, append([]string{"validate"}, args[1:]...)...)
		cmd.WaitDelay = time.Second // a grandchild holding the output pipe must not hang us
		cmd.Env = append(append([]string{}, env...), validatingEnv+"=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("validate did not finish: %w", ctx.Err())
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return errors.New(childMessage(out.String()))
		}
		return fmt.Errorf("running validate: %w", err)
	}
}

// childMessage keeps the child's error line(s): cobra prints "Error: ..." last.
func childMessage(out string) string {
	out = strings.TrimSpace(out)
	if i := strings.LastIndex(out, "Error: "); i >= 0 {
		return strings.TrimSpace(out[i+len("Error: "):])
	}
	if out == "" {
		return "validate failed without a message"
	}
	return out
}

// oneShotRun is true when this process is not a running collector: our own validate child, or a
// subcommand (`validate`, `print-config`, `components`, ...) given on the command line.
func oneShotRun(args []string, getenv func(string) string) bool {
	if getenv(validatingEnv) != "" {
		return true
	}
	return subcommand(args) != ""
}

// subcommand returns the first positional argument (cobra's subcommand), skipping flag values.
func subcommand(args []string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return ""
		}
		if strings.HasPrefix(a, "-") {
			if strings.Contains(a, "=") {
				continue
			}
			if valueFlags[strings.TrimLeft(a, "-")] {
				i++
			}
			continue
		}
		return a
	}
	return ""
}
