// Package watchfileprovider is a confmap provider for the `file` scheme that, unlike core's
// fileprovider, watches the file and asks the collector to reload when its content changes,
// but only after the new configuration passed the binary's own `validate` subcommand.
//
// It replaces core's fileprovider in the distribution, so `--config=/path`, `file:/path` and
// `${file:/path}` are all watched.
package watchfileprovider // import "github.com/labring/otelcol-sealos/confmap/provider/watchfileprovider"

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

const schemeName = "file"

// DebounceEnv overrides the default debounce (a Go duration, e.g. `500ms`). It has no `__`, so
// the environment-override converter does not read it as a config path.
const DebounceEnv = "OTELCOL_SEALOS_RELOAD_DEBOUNCE"

// DefaultDebounce: quiet time after the last file event before the file is re-read. Editors
// and the kubelet write in several steps; 3s is the predecessor's value.
const DefaultDebounce = 3 * time.Second

// Validator checks the configuration as the collector would load it now (from the files on
// disk), returning an error that names the offending key.
type Validator func(ctx context.Context) error

type options struct {
	validate Validator
	// watch is false when the process is itself a `validate` (or other one-shot) run.
	watch    bool
	debounce time.Duration
	// validateTimeout bounds one run of validate; 0 is validateTimeout.
	validateTimeout time.Duration
	now             func() time.Time
}

// NewFactory returns the `file` provider factory used by the distribution.
func NewFactory() confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(set confmap.ProviderSettings) confmap.Provider {
		return newProvider(set, defaultOptions())
	})
}

func defaultOptions() options {
	return options{validate: execValidator(os.Args, os.Environ()), watch: !oneShotRun(os.Args, os.Getenv), now: time.Now}
}

type served struct {
	content []byte
	hash    [sha256.Size]byte
}

type provider struct {
	logger *zap.Logger
	opts   options

	mu sync.Mutex
	// served: per path, what the last Retrieve returned (the config in effect).
	served map[string]served
	// approved: per path, content a watcher already validated before notifying.
	approved map[string][sha256.Size]byte
	// rejected: per path, content that failed validation (not validated twice).
	rejected map[string][sha256.Size]byte
	// unsettled: per path, content whose validation gave no verdict (timed out, killed), already
	// counted as a failure; it is validated again, but not counted again.
	unsettled map[string][sha256.Size]byte
	// notified: one watcher of this provider already asked for a reload; the others stay quiet
	// (the resolver's change channel holds one event, see watch.notify).
	notified bool
	watches  map[*watch]struct{}
}

func newProvider(set confmap.ProviderSettings, opts options) *provider {
	logger := set.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &provider{
		logger:    logger,
		opts:      opts,
		served:    map[string]served{},
		approved:  map[string][sha256.Size]byte{},
		rejected:  map[string][sha256.Size]byte{},
		unsettled: map[string][sha256.Size]byte{},
		watches:   map[*watch]struct{}{},
	}
}

func (*provider) Scheme() string { return schemeName }

// Retrieve reads the file. On a reload (the path was served before and the content differs from
// what a watcher approved, e.g. after SIGHUP), the new content is validated first; if it is
// invalid, cannot be validated in time, or the file cannot be read, the previous content is
// served again so the collector keeps its old configuration instead of exiting. With a watcher,
// the file is watched until the returned Retrieved is closed.
func (p *provider) Retrieve(ctx context.Context, uri string, watcher confmap.WatcherFunc) (*confmap.Retrieved, error) {
	if !strings.HasPrefix(uri, schemeName+":") {
		return nil, fmt.Errorf("%q uri is not supported by %q provider", uri, schemeName)
	}
	path := filepath.Clean(uri[len(schemeName)+1:])
	debounce, err := p.debounce()
	if err != nil {
		return nil, err
	}
	content, err := os.ReadFile(path)
	if err != nil {
		prev, seen := p.lastServed(path)
		if !seen || !p.opts.watch {
			return nil, fmt.Errorf("unable to read the file %v: %w", uri, err)
		}
		// Deleted between a notification and this reload, or mid-swap at a SIGHUP.
		p.keepPrevious(path, [sha256.Size]byte{}, fmt.Errorf("unable to read the file: %w", err))
		content = prev.content
	} else {
		content = p.contentToServe(ctx, path, content, sha256.Sum256(content))
	}

	p.mu.Lock()
	if len(p.watches) == 0 {
		// A new resolve (the resolver closed every previous watch first): notifications may start again.
		p.notified = false
	}
	p.mu.Unlock()

	var opts []confmap.RetrievedOption
	if watcher != nil && p.opts.watch {
		w, err := p.startWatch(path, debounce, watcher)
		if err != nil {
			return nil, err
		}
		opts = append(opts, confmap.WithRetrievedClose(func(context.Context) error {
			w.stop()
			return nil
		}))
	}
	return confmap.NewRetrievedFromYAML(content, opts...)
}

func (p *provider) lastServed(path string) (served, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.served[path]
	return s, ok
}

// contentToServe decides between the file's new content and the last served one.
func (p *provider) contentToServe(ctx context.Context, path string, content []byte, hash [sha256.Size]byte) []byte {
	p.mu.Lock()
	prev, seen := p.served[path]
	approved := p.approved[path] == hash
	p.mu.Unlock()

	if seen && prev.hash != hash && !approved && p.opts.watch {
		if err := p.validate(ctx, nil); err != nil {
			p.verdict(path, hash, err)
			return prev.content
		}
	}
	p.mu.Lock()
	p.served[path] = served{content: content, hash: hash}
	delete(p.approved, path)
	delete(p.unsettled, path)
	p.mu.Unlock()
	if p.opts.watch {
		recordSuccess(p.opts.now())
	}
	return content
}

// validate runs the validator within validateTimeout, and until stop closes (nil: never). An
// error that is not the configuration's fault (the run timed out, was killed, or could not start)
// wraps errInconclusive.
func (p *provider) validate(ctx context.Context, stop <-chan struct{}) error {
	timeout := p.opts.validateTimeout
	if timeout <= 0 {
		timeout = validateTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	err := p.opts.validate(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, errInconclusive) {
		err = fmt.Errorf("%w: %w", errInconclusive, err)
	}
	return err
}

// verdict records a failed validation: invalid content is rejected for good, content that could
// not be validated is kept back (the previous configuration stays) but validated again later.
func (p *provider) verdict(path string, hash [sha256.Size]byte, err error) {
	if errors.Is(err, errInconclusive) {
		p.keepPrevious(path, hash, err)
		return
	}
	p.reject(path, hash, err)
}

// reject logs one error and counts the failure; the old configuration stays.
func (p *provider) reject(path string, hash [sha256.Size]byte, err error) {
	p.mu.Lock()
	p.rejected[path] = hash
	delete(p.unsettled, path)
	p.mu.Unlock()
	recordFailure()
	p.logger.Error("Config reload rejected: the new configuration is invalid; the collector keeps running the previous one",
		zap.String("file", path), zap.Error(err))
}

// keepPrevious keeps the old configuration when the file could not be read or validated: the
// content is never applied unvalidated, and not remembered as invalid either. One failure is
// counted per content (hash; the zero hash for an unreadable file).
func (p *provider) keepPrevious(path string, hash [sha256.Size]byte, err error) {
	p.mu.Lock()
	prev, counted := p.unsettled[path]
	counted = counted && prev == hash
	p.unsettled[path] = hash
	p.mu.Unlock()
	if counted {
		p.logger.Warn("Config reload still not possible; the collector keeps running the previous configuration",
			zap.String("file", path), zap.Error(err))
		return
	}
	recordFailure()
	p.logger.Error("Config reload not applied: the new configuration could not be read or validated; the collector keeps running the previous one",
		zap.String("file", path), zap.Error(err))
}

func (p *provider) debounce() (time.Duration, error) {
	if p.opts.debounce > 0 {
		return p.opts.debounce, nil
	}
	v := os.Getenv(DebounceEnv)
	if v == "" {
		return DefaultDebounce, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a positive duration such as 500ms or 3s, got %q", DebounceEnv, v)
	}
	return d, nil
}

// Shutdown stops every watcher and waits for it, so nothing calls the resolver after it closed.
func (p *provider) Shutdown(context.Context) error {
	p.mu.Lock()
	ws := make([]*watch, 0, len(p.watches))
	for w := range p.watches {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
	return nil
}
