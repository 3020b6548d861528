package imagepullreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

func uidOf(s string) types.UID { return types.UID(s) }

func kubeletPod(node string, statuses ...corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{ContainerStatuses: statuses},
	}
}

func waiting(name, image, reason, message string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Image: image, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}}
}

func strip(t *testing.T, p *corev1.Pod) *pod {
	t.Helper()
	obj, err := podTransform(newRegistries(RegistryFilter{Exclude: []string{"*.internal"}}))(p)
	require.NoError(t, err)
	return obj.(*pod)
}

func TestPodTransform(t *testing.T) {
	running := corev1.ContainerStatus{Name: "ok", Image: "nginx", ContainerID: "containerd://1", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	created := waiting("created", "nginx", "ContainerCreating", "")
	created.ContainerID = "containerd://2" // has a container: not pulling
	p := strip(t, kubeletPod("node-a", running, created,
		waiting("fail", "nginx", "ErrImagePull", "not found"),
		waiting("pull", "alpine", "ContainerCreating", ""),
		waiting("crash", "nginx", "CrashLoopBackOff", "back-off 5m0s"),
		waiting("private", "harbor.internal/x:1", "ErrImagePull", "not found")))
	assert.Equal(t, []waitingContainer{
		{name: "fail", image: "nginx", registry: "docker.io", class: classImageNotFound},
		{name: "pull", image: "alpine", registry: "docker.io", creating: true},
	}, p.waiting)
	assert.Empty(t, strip(t, kubeletPod("", waiting("fail", "nginx", "ErrImagePull", "x"))).waiting, "unscheduled")
}

// TestStickiness follows one container through the kubelet's retry loop.
func TestStickiness(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := newPodTracker(func() time.Time { return now })
	h := tr.handler().(cache.ResourceEventHandlerFuncs)
	classOf := func() string {
		var got string
		tr.each(func(_ *pod, _ *waitingContainer, class string, _ time.Time) { got = class })
		return got
	}
	backOff := waiting("app", "nginx:1", "ImagePullBackOff", `Back-off pulling image "nginx:1"`)

	h.AddFunc(strip(t, kubeletPod("node-a", backOff)))
	assert.Equal(t, classBackOff, classOf(), "nothing to keep yet")
	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", waiting("app", "nginx:1", "ErrImagePull", "401 Unauthorized"))))
	assert.Equal(t, classUnauthorized, classOf())
	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", backOff)))
	assert.Equal(t, classUnauthorized, classOf(), "a back-off keeps the cause")
	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", backOff)))
	assert.Equal(t, classUnauthorized, classOf(), "and keeps keeping it")
	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", waiting("app", "nginx:2", "ImagePullBackOff", `Back-off pulling image "nginx:2"`))))
	assert.Equal(t, classBackOff, classOf(), "another image: a new story")

	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", waiting("app", "nginx:2", "ErrImagePull", "unexpected"))))
	assert.Equal(t, classUnknown, classOf())
	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", waiting("app", "nginx:2", "ImagePullBackOff", `Back-off pulling image "nginx:2"`))))
	assert.Equal(t, classBackOff, classOf(), "unknown is not a cause worth keeping")

	// Pulling since first seen; the time stays while it keeps waiting.
	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", waiting("app", "nginx:2", "ContainerCreating", ""))))
	now = now.Add(time.Minute)
	h.UpdateFunc(nil, strip(t, kubeletPod("node-a", waiting("app", "nginx:2", "ContainerCreating", ""))))
	tr.each(func(_ *pod, c *waitingContainer, class string, since time.Time) {
		assert.Empty(t, class)
		assert.Equal(t, time.Unix(1000, 0), since)
	})

	h.DeleteFunc(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: strip(t, kubeletPod("node-a"))})
	assert.Empty(t, tr.pods)
}
