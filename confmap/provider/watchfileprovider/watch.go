package watchfileprovider // import "github.com/labring/otelcol-sealos/confmap/provider/watchfileprovider"

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

// validateTimeout bounds one run of the validator (a child `validate` process).
const validateTimeout = 30 * time.Second

// watch follows one retrieved file until it notifies once or is stopped.
type watch struct {
	p        *provider
	path     string
	baseline [sha256.Size]byte // content on disk when retrieved: only a different content counts
	debounce time.Duration
	notify   confmap.WatcherFunc
	fsw      *fsnotify.Watcher

	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
}

// startWatch watches the file's parent directory, not the file: editors replace the file by
// rename, and a ConfigMap volume swaps its `..data` symlink, neither of which a watch on the
// file itself survives. Events only wake the debounce; the content hash decides.
func (p *provider) startWatch(path string, baseline [sha256.Size]byte, debounce time.Duration, notify confmap.WatcherFunc) (*watch, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", path, err)
	}
	if err := fsw.Add(filepath.Dir(path)); err != nil {
		_ = fsw.Close()
		return nil, fmt.Errorf("watching the directory of %s: %w", path, err)
	}
	w := &watch{
		p: p, path: path, baseline: baseline, debounce: debounce, notify: notify, fsw: fsw,
		stopCh: make(chan struct{}), done: make(chan struct{}),
	}
	p.mu.Lock()
	p.watches[w] = struct{}{}
	p.mu.Unlock()
	go w.run()
	return w, nil
}

// stop ends the goroutine and waits for it; idempotent. The resolver calls it (Retrieved close)
// before it re-fetches, and Shutdown calls it for watches still open.
func (w *watch) stop() {
	w.stopOnce.Do(func() { close(w.stopCh) })
	<-w.done
	w.p.mu.Lock()
	delete(w.p.watches, w)
	w.p.mu.Unlock()
}

func (w *watch) run() {
	defer close(w.done)
	defer func() { _ = w.fsw.Close() }()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	for {
		select {
		case <-w.stopCh:
			return
		case _, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			timer.Reset(w.debounce)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.p.logger.Warn("Config file watch error", zap.String("file", w.path), zap.Error(err))
		case <-timer.C:
			if w.check() {
				return
			}
		}
	}
}

// check re-reads the file after the debounce; it returns true once it has notified.
func (w *watch) check() bool {
	content, err := os.ReadFile(w.path)
	if err != nil {
		// Mid-swap or removed: a later event brings it back; nothing to apply now.
		w.p.logger.Warn("Config file unreadable; keeping the current configuration", zap.String("file", w.path), zap.Error(err))
		return false
	}
	hash := sha256.Sum256(content)
	if hash == w.baseline {
		return false
	}
	w.baseline = hash
	w.p.mu.Lock()
	rejected := w.p.rejected[w.path] == hash
	w.p.mu.Unlock()
	if rejected {
		return false
	}

	ctx, cancel := context.WithTimeout(context.Background(), validateTimeout)
	defer cancel()
	go func() {
		select {
		case <-w.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := w.p.opts.validate(ctx); err != nil {
		select {
		case <-w.stopCh:
			return true // stopped while validating: not a verdict on the file
		default:
		}
		w.p.reject(w.path, hash, err)
		return false
	}

	w.p.mu.Lock()
	if w.p.notified {
		w.p.mu.Unlock()
		return true // another file of this config already triggered the reload
	}
	w.p.notified = true
	w.p.approved[w.path] = hash
	w.p.mu.Unlock()
	w.p.logger.Info("Config file changed and validated; reloading", zap.String("file", w.path))
	// Never ChangeEvent{Error}: the collector would shut down. The resolver's channel has one slot;
	// this is this provider's only send until the next Retrieve, and the collector drains it.
	w.notify(&confmap.ChangeEvent{})
	return true
}
