package imagepullreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseMessage(t *testing.T) {
	tests := []struct {
		reason, text string
		want         message
	}{
		{"Pulling", `Pulling image "nginx:1.27"`, message{kind: kindPulling, image: "nginx:1.27", seconds: -1, bytes: -1}},
		{"Pulled", `Successfully pulled image "nginx:1.27" in 3.2s (3.5s including waiting). Image size: 73400320 bytes.`,
			message{kind: kindPulled, image: "nginx:1.27", seconds: 3.2, bytes: 73400320}},
		{"Pulled", `Successfully pulled image "quay.io/a/b@sha256:1" in 1m2.5s (1m3s including waiting)`,
			message{kind: kindPulled, image: "quay.io/a/b@sha256:1", seconds: 62.5, bytes: -1}},
		{"Pulled", `Successfully pulled image "localhost:5000/x" in 523ms`, message{kind: kindPulled, image: "localhost:5000/x", seconds: 0.523, bytes: -1}},
		{"Pulled", `Successfully pulled image "x" in 1h2m3.004s (1h2m3.004s including waiting). Image size: 0 bytes.`,
			message{kind: kindPulled, image: "x", seconds: 3723.004, bytes: 0}},
		{"Pulled", `Successfully pulled image "x" in a while`, message{kind: kindPulled, image: "x", seconds: -1, bytes: -1}},
		{"Pulled", `(combined from similar events): Successfully pulled image "x" in 2s`, message{kind: kindPulled, image: "x", seconds: 2, bytes: -1}},
		{"Pulled", `Container image "redis:7" already present on machine`, message{kind: kindCacheHit, image: "redis:7", seconds: -1, bytes: -1}},
		{"Pulled", `Container image "redis:7" already present on machine and can be accessed by the pod`, message{kind: kindCacheHit, image: "redis:7", seconds: -1, bytes: -1}},
		{"Failed", `Failed to pull image "ghcr.io/a/b:2": rpc error: code = Unknown desc = "quoted"`, message{kind: kindFailed, image: "ghcr.io/a/b:2", seconds: -1, bytes: -1}},
		{"BackOff", `Back-off pulling image "nginx"`, message{kind: kindBackOff, image: "nginx", seconds: -1, bytes: -1}},
		// Same reasons, not about a pull.
		{"Failed", `Error: ErrImagePull`, message{}},
		{"BackOff", `Back-off restarting failed container app in pod web`, message{}},
		{"Pulled", `Container image "x" is not present with pull policy of Never`, message{}},
		{"Pulling", `Pulling image "unterminated`, message{}},
		{"Started", `Pulling image "x"`, message{}},
	}
	for _, tt := range tests {
		got := parseMessage(tt.reason, tt.text)
		assert.InDelta(t, tt.want.seconds, got.seconds, 1e-9, tt.text)
		got.seconds = tt.want.seconds
		assert.Equal(t, tt.want, got, tt.text)
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{`Successfully pulled image "x" in 3.2s (3.5s including waiting). Image size: 1 bytes.`, `Pulling image "a\"b"`, `Container image "x" already present on machine`} {
		f.Add("Pulled", s)
	}
	f.Fuzz(func(t *testing.T, reason, text string) {
		m := parseMessage(reason, text)
		if m.kind == kindOther && m != (message{}) {
			t.Fatalf("a message that is not a pull carries data: %+v", m)
		}
		if m.kind == kindPulled && m.seconds < -1 {
			t.Fatalf("negative duration %v", m.seconds)
		}
	})
}

func TestEventFields(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web.1", Namespace: "ns", UID: "e1", CreationTimestamp: metav1.NewTime(at.Add(-time.Hour))},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", UID: "p1", FieldPath: "spec.initContainers{setup}"},
		Reason:         "Pulled",
		Message:        `Successfully pulled image "registry.example.com:5000/a:1" in 2s`,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-a"},
		Count:          4,
		LastTimestamp:  metav1.NewTime(at),
	}
	obj, err := eventTransform(newRegistries(RegistryFilter{}))(ev)
	require.NoError(t, err)
	e := obj.(*pullEvent)
	assert.Equal(t, pullEvent{identity: identity{name: "web.1", namespace: "ns", uid: "e1"}, kind: kindPulled, pod: "p1", container: "setup", node: "node-a",
		registry: "registry.example.com:5000", occurrences: 4, last: at.UnixNano(), seconds: 2, bytes: -1}, *e)

	// The events.k8s.io/v1 form seen through core/v1: series, reporting instance, micro times.
	ev.Source, ev.ReportingInstance, ev.Count = corev1.EventSource{}, "node-b", 0
	ev.LastTimestamp = metav1.Time{}
	ev.EventTime = metav1.NewMicroTime(at.Add(time.Millisecond))
	assert.Equal(t, "node-b", reportingNode(ev))
	assert.Equal(t, int32(1), occurrences(ev))
	assert.Equal(t, at.Add(time.Millisecond), lastOccurrence(ev))
	ev.Series = &corev1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(at.Add(time.Second))}
	assert.Equal(t, int32(3), occurrences(ev))
	assert.Equal(t, at.Add(time.Second), lastOccurrence(ev))

	// Excluded registry or not a pod: identity and count only.
	obj, err = eventTransform(newRegistries(RegistryFilter{Exclude: []string{"registry.example.com:*"}}))(ev)
	require.NoError(t, err)
	assert.Equal(t, kindOther, obj.(*pullEvent).kind)
	assert.Equal(t, int32(3), obj.(*pullEvent).occurrences)
	idx, err := indexByContainer(obj)
	require.NoError(t, err)
	assert.Empty(t, idx)

	assert.Equal(t, "app", containerOf("spec.containers{app}"))
	assert.Empty(t, containerOf(""))
	assert.Empty(t, containerOf("spec.containers{app"))
}
