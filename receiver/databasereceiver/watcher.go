package databasereceiver

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/labring/otelcol-sealos/internal/k8swatch"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
)

// watcher holds the informers of one leadership term: Secrets per selector (and, with preflight,
// Services and EndpointSlices) per namespace, or cluster-wide.
type watcher struct {
	watch *k8swatch.Watch

	mu           sync.Mutex
	secretStores []cache.Store
	services     []cache.Indexer
	slices       []cache.Indexer
}

func newWatcher() *watcher { return &watcher{watch: k8swatch.New("secrets")} }

// run starts the informers and blocks until ctx is done (informers cannot be restarted: one set per term).
func (w *watcher) run(ctx context.Context, term statereceiver.Term, client kubernetes.Interface, namespaces []string, preflight bool) {
	scopes := namespaces
	if len(scopes) == 0 {
		scopes = []string{metav1.NamespaceAll}
	}
	var (
		all      []cache.SharedIndexInformer
		secrets  []cache.Store
		services []cache.Indexer
		slices   []cache.Indexer
	)
	for _, ns := range scopes {
		for _, sel := range secretSelectors {
			f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns),
				informers.WithTransform(trimSecret),
				informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
			inf := f.Core().V1().Secrets().Informer()
			all, secrets = append(all, inf), append(secrets, inf.GetStore())
		}
		if preflight {
			f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns), informers.WithTransform(trimPreflight))
			svc := f.Core().V1().Services().Informer()
			eps := f.Discovery().V1().EndpointSlices().Informer()
			_ = eps.AddIndexers(cache.Indexers{byService: indexByService})
			all = append(all, svc, eps)
			services, slices = append(services, svc.GetIndexer()), append(slices, eps.GetIndexer())
		}
	}
	w.mu.Lock()
	w.secretStores, w.services, w.slices = secrets, services, slices
	w.mu.Unlock()
	w.watch.Run(ctx, term, k8swatch.VersionProbe(client.Discovery().RESTClient()), all...)
	w.mu.Lock()
	w.secretStores, w.services, w.slices = nil, nil, nil
	w.mu.Unlock()
}

// secrets waits up to timeout for this term's informers to sync and returns the cached Secrets.
func (w *watcher) secrets(ctx context.Context, timeout time.Duration) ([]*corev1.Secret, error) {
	if _, err := w.watch.Wait(ctx, timeout); err != nil {
		return nil, err
	}
	w.mu.Lock()
	stores := w.secretStores
	w.mu.Unlock()
	var out []*corev1.Secret
	for _, st := range stores {
		for _, o := range st.List() {
			out = append(out, o.(*corev1.Secret))
		}
	}
	return out, nil
}
