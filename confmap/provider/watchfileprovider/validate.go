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

// errInconclusive marks a validate run that gave no verdict on the configuration: it timed out,
// was killed, or could not start. The content is then not applied, but not rejected for good.
var errInconclusive = errors.New("validate did not finish")

// execValidator runs the running collector image as `<binary> validate <the same flags>` with
// the same environment: exactly the checks of the `validate` subcommand (YAML, providers and
// converters, unknown components, every component's Validate, pipelines), against the files as
// they are now.
func execValidator(args, env []string) Validator {
	exe, err := runningImage()
	if err != nil {
		return func(context.Context) error {
			return fmt.Errorf("%w: cannot find the collector binary to validate with: %w", errInconclusive, err)
		}
	}
	return execValidatorFor(exe, args, env)
}

// procSelfExe is the image this process runs, even after the file it was started from was
// replaced (an upgrade in place) or removed: validating with that file could run another version.
const procSelfExe = "/proc/self/exe"

// runningImage resolves, once, the binary to validate with: procSelfExe where /proc exists,
// else the path the process was started from.
func runningImage() (string, error) {
	if _, err := os.Stat(procSelfExe); err == nil {
		return procSelfExe, nil
	}
	return os.Executable()
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
			return fmt.Errorf("%w: %w", errInconclusive, ctx.Err())
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if !exitErr.Exited() {
				return fmt.Errorf("%w: the validate process was stopped (%s)", errInconclusive, exitErr.ProcessState)
			}
			return errors.New(childMessage(out.String()))
		}
		return fmt.Errorf("%w: running validate: %w", errInconclusive, err)
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
