package imagepullreceiver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// identity is what an informer needs of the cut-down objects it caches (pod, pullEvent) to key
// them and follow their versions; the rest of ObjectMeta is dropped on arrival.
type identity struct {
	name, namespace, resourceVersion string
	uid                              types.UID
}

func identityOf(m metav1.Object) identity {
	return identity{name: m.GetName(), namespace: intern(m.GetNamespace()), resourceVersion: m.GetResourceVersion(), uid: m.GetUID()}
}

// GetObjectMeta lets the informer key the object (meta.Accessor) without a full ObjectMeta.
func (id *identity) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: id.name, Namespace: id.namespace, UID: id.uid, ResourceVersion: id.resourceVersion}
}

// GetObjectKind is half of runtime.Object; each type adds DeepCopyObject returning itself, as
// nothing modifies a cached object after the transform built it.
func (*identity) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
