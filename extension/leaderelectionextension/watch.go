package leaderelectionextension

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

func metav1ObjectMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

// watchLease calls onLease(holder, released) on every change of one Lease (released: a holder
// just gave it up), until ctx ends;
// the returned func waits for the watch to stop.
func watchLease(ctx context.Context, client kubernetes.Interface, namespace, name string, onLease func(holder string, released bool), logger *zap.Logger) (stop func()) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}))
	informer := factory.Coordination().V1().Leases().Informer()
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { onLease(holderOf(obj), false) },
		UpdateFunc: func(old, obj any) { onLease(holderOf(obj), holderOf(old) != "" && holderOf(obj) == "") },
		DeleteFunc: func(any) { onLease("", false) },
	})
	_ = informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		// The campaign itself does not need the watch (it only speeds up handovers).
		logger.Debug("Watching the lease failed", zap.String("lease", namespace+"/"+name), zap.Error(err))
	})
	factory.Start(ctx.Done())
	return factory.Shutdown
}

func holderOf(obj any) string {
	if lease, ok := obj.(*coordinationv1.Lease); ok && lease.Spec.HolderIdentity != nil {
		return *lease.Spec.HolderIdentity
	}
	return ""
}

// leasesInUse maps "namespace/name identity" to the extension campaigning for that lease under
// that identity in this process. Two instances on one lease would share the process identity and
// both believe they lead.
var leasesInUse sync.Map

func claimLease(lease, identity string, id component.ID) (unclaim func(), err error) {
	key := lease + " " + identity
	if other, loaded := leasesInUse.LoadOrStore(key, id); loaded {
		return nil, fmt.Errorf("lease_name: lease %s is already used by %s in this collector; give each leader_election instance its own lease_name", lease, other)
	}
	var once sync.Once
	return func() { once.Do(func() { leasesInUse.Delete(key) }) }, nil
}
