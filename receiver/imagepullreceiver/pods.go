package imagepullreceiver

import (
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// pod is what the informer caches of a Pod: its identity and only the containers that wait for
// an image (failing, or possibly pulling). A running pod costs its name and nothing more.
type pod struct {
	identity
	node    string
	waiting []waitingContainer
}

// waitingContainer is a container status waiting with a pull failure, or waiting without a
// container ID in ContainerCreating / PodInitializing (the image may be being pulled).
type waitingContainer struct {
	name, image, registry string
	class                 string // failure class from the status alone; "" if not failing
	creating              bool   // ContainerCreating: the predecessor's slow-pull candidate
}

// DeepCopyObject returns p: a pod is never modified after the transform built it.
func (p *pod) DeepCopyObject() runtime.Object { return p }

// podTransform strips a decoded Pod to a *pod before the informer caches it.
func podTransform(regs registries) cache.TransformFunc {
	return func(obj any) (any, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return obj, nil // a deletion tombstone, or already transformed
		}
		out := &pod{identity: identityOf(p), node: intern(p.Spec.NodeName)}
		if p.Spec.NodeName == "" {
			return out, nil // not scheduled: no kubelet pulls for it yet
		}
		for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
			for i := range statuses {
				if c, ok := waitingFor(&statuses[i], regs); ok {
					out.waiting = append(out.waiting, c)
				}
			}
		}
		return out, nil
	}
}

// waitingFor keeps a container status that waits with a pull failure or possibly for a pull, of a
// selected registry.
func waitingFor(cs *corev1.ContainerStatus, regs registries) (waitingContainer, bool) {
	w := cs.State.Waiting
	if w == nil {
		return waitingContainer{}, false
	}
	class := classify(w.Reason, w.Message, cs.Image)
	pulling := cs.ContainerID == "" && (w.Reason == "ContainerCreating" || w.Reason == "PodInitializing") &&
		!strings.Contains(strings.ToLower(w.Message), "back-off pulling image")
	if class == "" && !pulling {
		return waitingContainer{}, false
	}
	registry := registryOf(cs.Image)
	if !regs.allowed(registry) {
		return waitingContainer{}, false
	}
	return waitingContainer{
		name: intern(cs.Name), image: intern(cs.Image), registry: registry,
		class: class, creating: w.Reason == "ContainerCreating",
	}, true
}

// podState is a pod with waiting containers as the receiver tracks it during a term: the
// failure class after the stickiness rule, and when each possibly-pulling container was first
// seen waiting.
type podState struct {
	pod   *pod
	class []string    // per pod.waiting
	since []time.Time // per pod.waiting; zero for failing containers
}

// podTracker holds the term's pods that have waiting containers. The informer's one handler
// goroutine writes; cycles read.
type podTracker struct {
	now func() time.Time

	mu   sync.Mutex
	pods map[types.UID]*podState
}

func newPodTracker(now func() time.Time) *podTracker {
	return &podTracker{now: now, pods: map[types.UID]*podState{}}
}

func (t *podTracker) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    t.set,
		UpdateFunc: func(_, obj any) { t.set(obj) },
		DeleteFunc: t.remove,
	}
}

func (t *podTracker) set(obj any) {
	p, ok := obj.(*pod)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p.waiting) == 0 {
		delete(t.pods, p.uid)
		return
	}
	prev := t.pods[p.uid]
	st := &podState{pod: p, class: make([]string, len(p.waiting)), since: make([]time.Time, len(p.waiting))}
	now := t.now()
	for i, c := range p.waiting {
		before, had := prev.find(c.name)
		switch {
		case c.class == classBackOff && had && specific(before.class) && prev.pod.node == p.node && before.image == c.image:
			// A back-off repeats the failure the kubelet saw last: keep its cause.
			st.class[i] = before.class
		case c.class != "":
			st.class[i] = c.class
		case had && !before.since.IsZero():
			st.since[i] = before.since
		default:
			st.since[i] = now
		}
	}
	t.pods[p.uid] = st
}

func (t *podTracker) remove(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if p, ok := obj.(*pod); ok {
		t.mu.Lock()
		delete(t.pods, p.uid)
		t.mu.Unlock()
	}
}

// trackedContainer is one waiting container of a tracked pod, as the previous update left it.
type trackedContainer struct {
	image, class string
	since        time.Time
}

func (s *podState) find(name string) (trackedContainer, bool) {
	if s == nil {
		return trackedContainer{}, false
	}
	for i, c := range s.pod.waiting {
		if c.name == name {
			return trackedContainer{image: c.image, class: s.class[i], since: s.since[i]}, true
		}
	}
	return trackedContainer{}, false
}

// each calls f for every waiting container of every tracked pod, under the lock.
func (t *podTracker) each(f func(p *pod, c *waitingContainer, class string, since time.Time)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, st := range t.pods {
		for i := range st.pod.waiting {
			f(st.pod, &st.pod.waiting[i], st.class[i], st.since[i])
		}
	}
}
