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

	"github.com/fsnotify/fsnotify"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

// validateTimeout bounds one run of the validator (a child `validate` process).
const validateTimeout = 30 * time.Second

// maxRetries bounds how often content whose validation gave no verdict is validated again
// without a new file event.
const maxRetries = 3

// dataLink is the symlink the kubelet swaps to update a ConfigMap or Secret volume.
const dataLink = "..data"

// watch follows one retrieved file until it notifies once or is stopped.
type watch struct {
	p        *provider
	path     string
	dir      string
	names    map[string]bool // event names that concern the file
	debounce time.Duration
	notify   confmap.WatcherFunc
	fsw      *fsnotify.Watcher
	// watching is false while the directory is gone: it is polled until it is back.
	watching bool
	retries  int

	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
}

// startWatch watches the file's parent directory, not the file: editors replace the file by
// rename, and a ConfigMap volume swaps its `..data` symlink, neither of which a watch on the
// file itself survives. Only events for the file (or its symlink target in that directory) and
// for `..data` wake the debounce: other files there may change as often as they like. The
// content hash then decides, against the content served (in effect).
func (p *provider) startWatch(path string, debounce time.Duration, notify confmap.WatcherFunc) (*watch, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	w := &watch{
		p: p, path: path, dir: dir, names: map[string]bool{path: true, filepath.Join(dir, dataLink): true},
		debounce: debounce, notify: notify, fsw: fsw, watching: true,
		stopCh: make(chan struct{}), done: make(chan struct{}),
	}
	if target, err := filepath.EvalSymlinks(path); err == nil && filepath.Dir(target) == dir {
		w.names[target] = true
	}
	if err := fsw.Add(dir); err != nil {
		if _, served := p.lastServed(path); !served {
			_ = fsw.Close()
			return nil, fmt.Errorf("watching the directory of %s: %w", path, err)
		}
		w.lost(err) // gone at a reload: the previous configuration stays, the directory is polled
	}
	p.mu.Lock()
	p.watches[w] = struct{}{}
	p.mu.Unlock()
	go w.run(p.pending(path))
	return w, nil
}

// pending: the file's content was not applied for want of a verdict (or could not be read), so
// the watch checks it again without waiting for an event.
func (p *provider) pending(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, unsettled := p.unsettled[path]
	return unsettled
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

func (w *watch) run(checkNow bool) {
	defer close(w.done)
	defer func() { _ = w.fsw.Close() }()

	timer := time.NewTimer(w.debounce)
	if !checkNow {
		timer.Stop()
	}
	defer timer.Stop()
	poll := time.NewTicker(w.debounce)
	defer poll.Stop()

	for {
		select {
		case <-w.stopCh:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			switch {
			case ev.Name == w.dir && ev.Has(fsnotify.Remove|fsnotify.Rename):
				w.lost(fmt.Errorf("the directory was %s", strings.ToLower(ev.Op.String())))
			case w.names[ev.Name]:
				w.retries = 0
				timer.Reset(w.debounce)
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.p.logger.Warn("Config file watch error", zap.String("file", w.path), zap.Error(err))
		case <-poll.C:
			if !w.watching && w.rewatch() {
				timer.Reset(w.debounce) // the file may have changed while the directory was away
			}
		case <-timer.C:
			notified, retry := w.check()
			if notified {
				return
			}
			if retry && w.retries < maxRetries {
				w.retries++
				timer.Reset(w.debounce)
			}
		}
	}
}

// lost: the directory is gone (removed, or renamed away), and its watch with it. The collector
// keeps its configuration; the directory is polled until it is back.
func (w *watch) lost(err error) {
	if !w.watching {
		return
	}
	w.watching = false
	_ = w.fsw.Remove(w.dir)
	w.p.logger.Warn("Config directory is gone; keeping the current configuration and waiting for it to come back",
		zap.String("file", w.path), zap.Error(err))
}

func (w *watch) rewatch() bool {
	if err := w.fsw.Add(w.dir); err != nil {
		return false
	}
	w.watching = true
	w.p.logger.Info("Config directory is back; watching the file again", zap.String("file", w.path))
	return true
}

// check re-reads the file after the debounce. notified: it asked for a reload (the watch ends);
// retry: validation gave no verdict, check again later.
func (w *watch) check() (notified, retry bool) {
	content, err := os.ReadFile(w.path)
	if err != nil {
		// Removed or unreadable past the debounce: the old config stays, and the failure is counted
		// once (an alert should see a deleted config); the file's next event checks it again.
		w.p.keepPrevious(w.path, [sha256.Size]byte{}, fmt.Errorf("unable to read the file: %w", err))
		return false, false
	}
	hash := sha256.Sum256(content)
	w.p.mu.Lock()
	inEffect := w.p.served[w.path].hash == hash
	rejected := w.p.rejected[w.path] == hash
	w.p.mu.Unlock()
	if inEffect || rejected {
		return false, false
	}

	if err := w.p.validate(context.Background(), w.stopCh); err != nil {
		select {
		case <-w.stopCh:
			return true, false // stopped while validating: not a verdict on the file
		default:
		}
		w.p.verdict(w.path, hash, err)
		return false, errors.Is(err, errInconclusive)
	}

	w.p.mu.Lock()
	if w.p.notified {
		w.p.mu.Unlock()
		return true, false // another file of this config already triggered the reload
	}
	w.p.notified = true
	w.p.approved[w.path] = hash
	w.p.mu.Unlock()
	w.p.logger.Info("Config file changed and validated; reloading", zap.String("file", w.path))
	// Never ChangeEvent{Error}: the collector would shut down. The resolver's channel has one slot;
	// this is this provider's only send until the next Retrieve, and the collector drains it.
	w.notify(&confmap.ChangeEvent{})
	return true, false
}
