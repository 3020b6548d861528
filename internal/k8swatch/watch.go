// Package k8swatch runs a receiver's informers for one leadership term and lets its cycles wait
// for their first list: the plumbing every informer-based receiver would otherwise repeat.
package k8swatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
)

// Term is the part of statereceiver.Term a watch reports to.
type Term interface {
	Ready()
	Report(key string, err error)
}

// Watch holds the informers of the current leadership term (none between terms).
type Watch struct {
	name string // what the informers list, for errors and the status: "nodes", "secrets"

	mu        sync.Mutex
	informers []cache.SharedIndexInformer
	synced    chan struct{} // closed once every informer has listed; nil between terms

	listErr atomic.Pointer[error] // the term's last list or watch error
}

// New returns a watch of what name says.
func New(name string) *Watch { return &Watch{name: name} }

// Run runs informers until ctx is done. Until their first list is in, every failed list is
// reported to term under the watch's name, and probe (the API server's /version, see
// VersionProbe) runs with backoff so that an unreachable server is reported too: client-go's
// streaming list retries a refused connection without telling the error handler. The reflectors
// retry: a server that is down at start is waited for, not fatal. Once listed, the reports are
// cleared and term.Ready called. Informers cannot be restarted: each term builds its own.
func (w *Watch) Run(ctx context.Context, term Term, probe Probe, informers ...cache.SharedIndexInformer) {
	w.listErr.Store(nil)
	var listed atomic.Bool
	hasSynced := make([]cache.InformerSynced, len(informers))
	for i, inf := range informers {
		hasSynced[i] = inf.HasSynced
		_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
			if errors.Is(err, io.EOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
				return // a watch ending normally; the reflector resumes it
			}
			err = Describe(w.name, err)
			w.listErr.Store(&err)
			if !listed.Load() {
				term.Report(w.name, err)
			}
		})
	}
	synced := make(chan struct{})
	w.mu.Lock()
	w.informers, w.synced = informers, synced
	w.mu.Unlock()

	var wg sync.WaitGroup
	for _, inf := range informers {
		wg.Go(func() { inf.Run(ctx.Done()) })
	}
	wg.Go(func() {
		ProbeUntilListed(ctx, synced, probe, func(err error) {
			if err != nil {
				w.listErr.Store(&err)
			}
			term.Report(probeKey, err)
		})
	})
	if cache.WaitForCacheSync(ctx.Done(), hasSynced...) {
		listed.Store(true)
		close(synced)
		term.Report(w.name, nil)
		term.Ready()
	}
	<-ctx.Done()
	waitAtMost(&wg, stopGrace)
	w.mu.Lock()
	w.informers, w.synced = nil, nil
	w.mu.Unlock()
}

// storePoll is how often Wait looks for the informers that Run starts asynchronously.
const storePoll = 10 * time.Millisecond

// Wait returns the term's informers once they have listed, waiting at most timeout; the error
// says why they have not (the last list error, or that none run).
func (w *Watch) Wait(ctx context.Context, timeout time.Duration) ([]cache.SharedIndexInformer, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		informers, synced := w.informers, w.synced
		w.mu.Unlock()
		var poll <-chan time.Time
		if synced == nil {
			poll = time.After(storePoll)
		}
		select {
		case <-synced: // nil between terms: never ready
			return informers, nil
		case <-poll:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			if synced == nil {
				return nil, fmt.Errorf("%s: informers are not running", w.name)
			}
			if err := w.listErr.Load(); err != nil {
				return nil, fmt.Errorf("%s not listed within %s: %w", w.name, timeout, *err)
			}
			return nil, fmt.Errorf("%s not listed within %s", w.name, timeout)
		}
	}
}

// Describe says what a failed list means in the terms an operator acts on.
func Describe(what string, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s: not served by the API server (CRD not installed, or wrong group/version/resource): %w", what, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: access forbidden; grant list and watch on it to the collector's service account: %w", what, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
