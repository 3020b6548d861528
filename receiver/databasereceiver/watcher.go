package databasereceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// watcher holds the informers of one leadership term: Secrets per selector (and, with preflight,
// Services and EndpointSlices) per namespace, or cluster-wide.
type watcher struct {
	mu           sync.Mutex
	secretStores []cache.Store
	services     []cache.Indexer
	slices       []cache.Indexer
	synced       chan struct{}         // closed once every informer holds a full list; nil while not leading
	listErr      atomic.Pointer[error] // last list/watch error of this term
}

// run starts the informers and blocks until ctx is done (informers cannot be restarted: one set per term).
func (w *watcher) run(ctx context.Context, client kubernetes.Interface, namespaces []string, preflight bool) {
	scopes := namespaces
	if len(scopes) == 0 {
		scopes = []string{metav1.NamespaceAll}
	}
	w.listErr.Store(nil)
	onErr := func(_ *cache.Reflector, err error) { w.listErr.Store(&err) }
	var (
		factories []informers.SharedInformerFactory
		hasSynced []cache.InformerSynced
		secrets   []cache.Store
		services  []cache.Indexer
		slices    []cache.Indexer
	)
	for _, ns := range scopes {
		for _, sel := range secretSelectors {
			f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns),
				informers.WithTransform(trimSecret),
				informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
			inf := f.Core().V1().Secrets().Informer()
			_ = inf.SetWatchErrorHandler(onErr)
			factories, hasSynced, secrets = append(factories, f), append(hasSynced, inf.HasSynced), append(secrets, inf.GetStore())
		}
		if preflight {
			f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns), informers.WithTransform(trimPreflight))
			svc := f.Core().V1().Services().Informer()
			eps := f.Discovery().V1().EndpointSlices().Informer()
			_ = eps.AddIndexers(cache.Indexers{byService: indexByService})
			_ = svc.SetWatchErrorHandler(onErr)
			_ = eps.SetWatchErrorHandler(onErr)
			factories, hasSynced = append(factories, f), append(hasSynced, svc.HasSynced, eps.HasSynced)
			services, slices = append(services, svc.GetIndexer()), append(slices, eps.GetIndexer())
		}
	}
	synced := make(chan struct{})
	w.mu.Lock()
	w.secretStores, w.services, w.slices, w.synced = secrets, services, slices, synced
	w.mu.Unlock()

	for _, f := range factories {
		f.Start(ctx.Done())
	}
	if cache.WaitForCacheSync(ctx.Done(), hasSynced...) {
		close(synced)
	}
	<-ctx.Done()
	for _, f := range factories {
		f.Shutdown()
	}
	w.mu.Lock()
	w.secretStores, w.services, w.slices, w.synced = nil, nil, nil, nil
	w.mu.Unlock()
}

// storePoll is how often a cycle looks for the informers that Lead starts asynchronously.
const storePoll = 10 * time.Millisecond

// secrets waits up to timeout for this term's informers to sync and returns the cached Secrets.
func (w *watcher) secrets(ctx context.Context, timeout time.Duration) ([]*corev1.Secret, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		stores, synced := w.secretStores, w.synced
		w.mu.Unlock()
		var poll <-chan time.Time
		if synced == nil {
			poll = time.After(storePoll)
		}
		select {
		case <-synced: // nil while there are no informers: never ready
			var out []*corev1.Secret
			for _, st := range stores {
				for _, o := range st.List() {
					out = append(out, o.(*corev1.Secret))
				}
			}
			return out, nil
		case <-poll:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			if synced == nil {
				return nil, errors.New("secret informers are not running")
			}
			if err := w.listErr.Load(); err != nil {
				return nil, fmt.Errorf("secrets not listed within sync_timeout %s: %w", timeout, *err)
			}
			return nil, fmt.Errorf("secrets not listed within sync_timeout %s", timeout)
		}
	}
}
