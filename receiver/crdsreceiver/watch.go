package crdsreceiver

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/labring/otelcol-sealos/internal/k8swatch"
)

// watcher runs one resource's informers (one per namespace, or one for all) for a leadership
// term. A resource that is missing or forbidden never blocks the others: its reflectors retry
// with client-go's backoff (0.8 s doubling to 30 s) and the first successful list brings it up.
type watcher struct {
	store   *resourceStore
	client  dynamic.Interface
	logger  *zap.Logger
	onState func(resource string, err error) // err nil: up

	lastErr atomic.Pointer[string] // last list/watch error, for the log on recovery
}

func (w *watcher) gvr() schema.GroupVersionResource {
	g := w.store.spec.cfg.GVR
	return schema.GroupVersionResource{Group: g.Group, Version: g.Version, Resource: g.Resource}
}

// run watches until ctx is done, then waits for the informers to stop and forgets the objects.
func (w *watcher) run(ctx context.Context) {
	defer w.store.reset()
	namespaces := w.store.spec.cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{""} // all namespaces, or a cluster-scoped resource
	}
	var (
		wg     sync.WaitGroup
		synced []cache.InformerSynced
	)
	for _, ns := range namespaces {
		inf := dynamicinformer.NewFilteredDynamicInformer(w.client, w.gvr(), ns, w.store.spec.cfg.ResyncPeriod, cache.Indexers{}, nil).Informer()
		if err := inf.SetTransform(w.transform); err != nil {
			w.logger.Error("cannot set informer transform", zap.Error(err))
			return
		}
		_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) { w.watchError(err) })
		reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    w.onSet,
			UpdateFunc: func(_, obj any) { w.onSet(obj) },
			DeleteFunc: w.onDelete,
		})
		if err != nil {
			w.logger.Error("cannot add informer handler", zap.Error(err))
			return
		}
		synced = append(synced, reg.HasSynced)
		wg.Add(1)
		go func() {
			defer wg.Done()
			inf.Run(ctx.Done())
		}()
	}
	if cache.WaitForCacheSync(ctx.Done(), synced...) {
		w.store.up.Store(true)
		if w.lastErr.Load() != nil {
			w.logger.Info("resource is listed now")
		}
		w.onState(w.store.spec.cfg.Name, nil)
	}
	<-ctx.Done()
	wg.Wait()
}

// transform replaces the decoded object by its precomputed series before the informer caches
// it: the cache never holds object fields, and series are computed once per object change.
func (w *watcher) transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		return w.store.spec.compute(o.Object, &w.store.in, w.store.countError), nil
	default: // already transformed, or a deletion tombstone
		return obj, nil
	}
}

func (w *watcher) onSet(obj any) {
	if o, ok := obj.(*objectSeries); ok {
		w.store.set(o)
	}
}

func (w *watcher) onDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if o, ok := obj.(*objectSeries); ok {
		w.store.remove(o.uid)
	}
}

// watchError is called by the reflectors for every failed list or watch.
func (w *watcher) watchError(err error) {
	if errors.Is(err, io.EOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return // a watch ending normally; the reflector resumes it
	}
	msg := k8swatch.Describe(w.gvr().String(), err).Error()
	w.lastErr.Store(&msg)
	w.logger.Warn("cannot list or watch resource; retrying with backoff", zap.String("error", msg))
	if !w.store.up.Load() {
		w.onState(w.store.spec.cfg.Name, errors.New(msg))
	}
}
