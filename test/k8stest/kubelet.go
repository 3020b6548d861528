package k8stest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// PodContainer is a container of a test pod and the state its kubelet reports.
type PodContainer struct {
	Name, Image string
	Init        bool
	// Reason and Message of the waiting state (ErrImagePull, ContainerCreating, ...); an empty
	// Reason means the container runs.
	Reason, Message string
}

// CreatePod creates a pod bound to node and writes its container statuses through the status
// subresource, as the scheduler and the kubelet do.
func CreatePod(ctx context.Context, client kubernetes.Interface, namespace, name, node string, containers ...PodContainer) (*corev1.Pod, error) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: corev1.PodSpec{NodeName: node}}
	for _, c := range containers {
		spec := corev1.Container{Name: c.Name, Image: c.Image}
		if c.Init {
			p.Spec.InitContainers = append(p.Spec.InitContainers, spec)
		} else {
			p.Spec.Containers = append(p.Spec.Containers, spec)
		}
	}
	p, err := client.CoreV1().Pods(namespace).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return SetContainerStatuses(ctx, client, p, containers...)
}

// SetContainerStatuses replaces the pod's container statuses and phase the way the kubelet's
// status manager writes them: a waiting container has no container ID yet, a running one has.
func SetContainerStatuses(ctx context.Context, client kubernetes.Interface, p *corev1.Pod, containers ...PodContainer) (*corev1.Pod, error) {
	p = p.DeepCopy()
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning}
	for _, c := range containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image}
		if c.Reason != "" {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.Reason, Message: c.Message}
			p.Status.Phase = corev1.PodPending
		} else {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Now()}
			cs.ContainerID = "containerd://" + fmt.Sprintf("%064x", time.Now().UnixNano())
			cs.ImageID = c.Image
			cs.Ready = true
		}
		if c.Init {
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, cs)
		} else {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs)
		}
	}
	return client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
}

// eventName names an event as the kubelet's recorder does, <object>.<hex nanoseconds now>, made
// unique within the process (events created in a burst).
func eventName(object string) string {
	for {
		last, now := lastEventNanos.Load(), time.Now().UnixNano()
		if now <= last {
			now = last + 1
		}
		if lastEventNanos.CompareAndSwap(last, now) {
			return fmt.Sprintf("%s.%x", object, now)
		}
	}
}

var lastEventNanos atomic.Int64

// KubeletEvent is a core/v1 Event as the kubelet's recorder creates it about a pod's container:
// named <pod>.<hex time of creation>, with the container's fieldPath, source and reporting instance the
// node, count 1, Warning for Failed and Normal otherwise.
func KubeletEvent(p *corev1.Pod, container, reason, message string, at time.Time) *corev1.Event {
	typ := corev1.EventTypeNormal
	if reason == "Failed" {
		typ = corev1.EventTypeWarning
	}
	ts := metav1.NewTime(at)
	return &corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: p.Namespace, Name: eventName(p.Name)},
		InvolvedObject:      containerRef(p, container),
		Reason:              reason,
		Message:             message,
		Type:                typ,
		Source:              corev1.EventSource{Component: "kubelet", Host: p.Spec.NodeName},
		ReportingController: "kubelet",
		ReportingInstance:   p.Spec.NodeName,
		FirstTimestamp:      ts,
		LastTimestamp:       ts,
		Count:               1,
	}
}

func containerRef(p *corev1.Pod, container string) corev1.ObjectReference {
	field := "spec.containers{" + container + "}"
	for _, c := range p.Spec.InitContainers {
		if c.Name == container {
			field = "spec.initContainers{" + container + "}"
		}
	}
	return corev1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: p.Namespace, Name: p.Name, UID: p.UID,
		ResourceVersion: p.ResourceVersion, FieldPath: field,
	}
}

// RepeatEvent records another occurrence of ev as the kubelet's event correlator does: a patch
// of count, lastTimestamp and message.
func RepeatEvent(ctx context.Context, client kubernetes.Interface, ev *corev1.Event, message string, at time.Time) (*corev1.Event, error) {
	patch, err := json.Marshal(map[string]any{"count": ev.Count + 1, "lastTimestamp": metav1.NewTime(at), "message": message})
	if err != nil {
		return nil, err
	}
	return client.CoreV1().Events(ev.Namespace).Patch(ctx, ev.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
}

// SeriesEvent creates an events.k8s.io/v1 Event about a pod's container as the newer recorder
// (k8s.io/client-go/tools/events) does: first occurrence, no series.
func SeriesEvent(ctx context.Context, client kubernetes.Interface, p *corev1.Pod, container, reason, note string, at time.Time) (*eventsv1.Event, error) {
	typ := corev1.EventTypeNormal
	if reason == "Failed" {
		typ = corev1.EventTypeWarning
	}
	ref := containerRef(p, container)
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: p.Namespace, Name: eventName(p.Name)},
		EventTime:           metav1.NewMicroTime(at),
		ReportingController: "kubelet",
		ReportingInstance:   p.Spec.NodeName,
		Action:              reason,
		Reason:              reason,
		Regarding:           ref,
		Note:                note,
		Type:                typ,
	}
	return client.EventsV1().Events(p.Namespace).Create(ctx, ev, metav1.CreateOptions{})
}

// RepeatSeries records another occurrence of an events.k8s.io/v1 Event: the series starts at 2
// and counts up, as the newer recorder's isomorphic-event cache does.
func RepeatSeries(ctx context.Context, client kubernetes.Interface, ev *eventsv1.Event, at time.Time) (*eventsv1.Event, error) {
	ev = ev.DeepCopy()
	if ev.Series == nil {
		ev.Series = &eventsv1.EventSeries{Count: 1}
	}
	ev.Series.Count++
	ev.Series.LastObservedTime = metav1.NewMicroTime(at)
	return client.EventsV1().Events(ev.Namespace).Update(ctx, ev, metav1.UpdateOptions{})
}
