package zombiereceiver

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// stripPod keeps what attributing a container needs: the pod's name, namespace and UID, and the
// name and ID of each of its containers (init and ephemeral ones included).
func stripPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil // a tombstone: the informer handles it
	}
	keep := func(in []corev1.ContainerStatus) []corev1.ContainerStatus {
		out := make([]corev1.ContainerStatus, 0, len(in))
		for _, c := range in {
			out = append(out, corev1.ContainerStatus{Name: c.Name, ContainerID: c.ContainerID})
		}
		return out
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: pod.ResourceVersion},
		Status: corev1.PodStatus{
			ContainerStatuses:          keep(pod.Status.ContainerStatuses),
			InitContainerStatuses:      keep(pod.Status.InitContainerStatuses),
			EphemeralContainerStatuses: keep(pod.Status.EphemeralContainerStatuses),
		},
	}, nil
}

type podRef struct{ namespace, name string }

type containerRef struct {
	pod  podRef
	name string
}

// podIndex finds the pod of a container ID or a pod UID, among the node's pods.
type podIndex struct {
	containers map[string]containerRef // by bare container ID
	pods       map[types.UID]podRef
}

func newPodIndex(objs []any) podIndex {
	idx := podIndex{containers: map[string]containerRef{}, pods: map[types.UID]podRef{}}
	for _, obj := range objs {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			continue
		}
		ref := podRef{namespace: pod.Namespace, name: pod.Name}
		idx.pods[pod.UID] = ref
		for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
			for _, c := range list {
				if id := bareContainerID(c.ContainerID); id != "" {
					idx.containers[id] = containerRef{pod: ref, name: c.Name}
				}
			}
		}
	}
	return idx
}

// bareContainerID drops the runtime scheme of a status's containerID (containerd://, cri-o://,
// docker://).
func bareContainerID(id string) string {
	if _, bare, ok := strings.Cut(id, "://"); ok {
		return bare
	}
	return id
}
