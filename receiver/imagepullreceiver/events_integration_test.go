package imagepullreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
)

func pulls(registry, node, result string) string {
	return series.Format("image.pulls", map[string]string{"registry": registry, "node": node, "result": result})
}

func pullBytes(registry, node string) string {
	return series.Format("image.pull.bytes", map[string]string{"registry": registry, "node": node})
}

func durations(registry, node string) string {
	return series.Format("image.pull.duration", map[string]string{"registry": registry, "node": node})
}

// waitLeading waits for a successful cycle: every informer of the term has listed.
func waitLeading(t testing.TB, sink *consumertest.MetricsSink) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if series.Of(lastEmission(sink))[`state_metric.collector.success{collector="imagepull"}`] == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no successful cycle within %s", waitFor)
}

func mustPod(t testing.TB, c *k8stest.Cluster, ns, name, node string, containers ...k8stest.PodContainer) *corev1.Pod {
	t.Helper()
	p, err := k8stest.CreatePod(context.Background(), c.Client, ns, name, node, containers...)
	require.NoError(t, err)
	return p
}

func mustEvent(t testing.TB, c *k8stest.Cluster, ev *corev1.Event) *corev1.Event {
	t.Helper()
	ev, err := c.Client.CoreV1().Events(ev.Namespace).Create(context.Background(), ev, metav1.CreateOptions{})
	require.NoError(t, err)
	return ev
}

// TestPullCountsFromEvents creates Events the way kubelets do, in the core/v1 form with count
// updates and in the events.k8s.io/v1 series form, and checks that each occurrence is counted
// once, that events from before the term are its starting point, and what the messages say.
func TestPullCountsFromEvents(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	const ns = "events"
	createNamespace(t, c, ns)
	now := time.Now()
	web := mustPod(t, c, ns, "web", "node-a",
		k8stest.PodContainer{Name: "setup", Init: true, Image: "registry.example.com:5000/tools/init:1"},
		k8stest.PodContainer{Name: "app", Image: "nginx:1.27"})
	api := mustPod(t, c, ns, "api", "node-b", k8stest.PodContainer{Name: "api", Image: "quay.io/org/api@" + digest})
	cached := mustPod(t, c, ns, "cached", "node-b", k8stest.PodContainer{Name: "app", Image: "nginx:1.27"}, k8stest.PodContainer{Name: "redis", Image: "redis:7"})
	private := mustPod(t, c, ns, "private", "node-a", k8stest.PodContainer{Name: "app", Image: "ghcr.io/acme/private:2", Reason: "ErrImagePull"})
	old := mustPod(t, c, ns, "old", "node-c", k8stest.PodContainer{Name: "app", Image: "nginx:1.27"})
	// Before the receiver leads: its starting point, never counted.
	mustEvent(t, c, k8stest.KubeletEvent(old, "app", "Pulled", `Successfully pulled image "nginx:1.27" in 1s (1s including waiting). Image size: 1000 bytes.`, now.Add(-time.Minute)))

	sink := startReceiver(t, clusterConfig(c), nil)
	waitLeading(t, sink)

	// Kubelet 1.30+: pull time, time with waiting, size.
	mustEvent(t, c, k8stest.KubeletEvent(web, "app", "Pulling", `Pulling image "nginx:1.27"`, now))
	mustEvent(t, c, k8stest.KubeletEvent(web, "app", "Pulled", `Successfully pulled image "nginx:1.27" in 3.2s (3.5s including waiting). Image size: 73400320 bytes.`, now))
	// Kubelet before 1.28: pull time only.
	mustEvent(t, c, k8stest.KubeletEvent(web, "setup", "Pulled", `Successfully pulled image "registry.example.com:5000/tools/init:1" in 45.1s`, now))
	// Kubelet 1.28-1.29: no size.
	mustEvent(t, c, k8stest.KubeletEvent(api, "api", "Pulled", `Successfully pulled image "quay.io/org/api@`+digest+`" in 1m2.5s (1m3s including waiting)`, now))
	// A cache hit repeated twice by the core/v1 correlator (count 3).
	hit := mustEvent(t, c, k8stest.KubeletEvent(cached, "app", "Pulled", `Container image "nginx:1.27" already present on machine`, now))
	for i := range 2 {
		var err error
		hit, err = k8stest.RepeatEvent(ctx, c.Client, hit, hit.Message, now.Add(time.Duration(i+1)*time.Second))
		require.NoError(t, err)
	}
	// The events.k8s.io/v1 form: first occurrence without a series, then series.count 2 and 3.
	se, err := k8stest.SeriesEvent(ctx, c.Client, cached, "redis", "Pulled", `Container image "redis:7" already present on machine and can be accessed by the pod`, now)
	require.NoError(t, err)
	for i := range 2 {
		se, err = k8stest.RepeatSeries(ctx, c.Client, se, now.Add(time.Duration(i+1)*time.Second))
		require.NoError(t, err)
	}
	// A failed pull, and what the kubelet records around it that is not a pull.
	mustEvent(t, c, k8stest.KubeletEvent(private, "app", "Failed", `Failed to pull image "ghcr.io/acme/private:2": rpc error: code = Unknown desc = failed to authorize: 401 Unauthorized`, now))
	mustEvent(t, c, k8stest.KubeletEvent(private, "app", "Failed", `Error: ErrImagePull`, now.Add(time.Millisecond)))
	mustEvent(t, c, k8stest.KubeletEvent(private, "app", "BackOff", `Back-off pulling image "ghcr.io/acme/private:2"`, now.Add(2*time.Millisecond)))
	mustEvent(t, c, k8stest.KubeletEvent(web, "app", "BackOff", `Back-off restarting failed container app in pod web_events(uid)`, now))
	// Not about a pod: filtered out by the API server.
	notPod := k8stest.KubeletEvent(web, "app", "Pulled", `Successfully pulled image "nginx:1.27" in 9s`, now.Add(3*time.Millisecond))
	notPod.InvolvedObject.Kind = "Deployment"
	mustEvent(t, c, notPod)

	want := map[string]float64{
		pullBytes("docker.io", "node-a"): 73400320, // the only pull with a size
	}
	for _, k := range []struct {
		registry, node           string
		pulled, cacheHit, failed float64
	}{
		{"docker.io", "node-a", 1, 0, 0},
		{"registry.example.com:5000", "node-a", 1, 0, 0},
		{"quay.io", "node-b", 1, 0, 0},
		{"docker.io", "node-b", 0, 6, 0}, // 3 core/v1 occurrences + 3 events.k8s.io/v1 ones
		{"ghcr.io", "node-a", 0, 0, 1},
	} {
		want[pulls(k.registry, k.node, "pulled")] = k.pulled
		want[pulls(k.registry, k.node, "cache_hit")] = k.cacheHit
		want[pulls(k.registry, k.node, "failed")] = k.failed
		want[durations(k.registry, k.node)] = k.pulled // observations: every pull had a duration
	}
	counters := func(s map[string]float64) map[string]float64 {
		out := withPrefix(s, "image.pull")
		for k := range withPrefix(s, failuresMetric) {
			delete(out, k)
		}
		return out
	}
	waitSeries(t, sink, "every pull counted", func(s map[string]float64) bool { return assert.ObjectsAreEqual(want, counters(s)) })
	// Later cycles neither lose nor add anything.
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, want, counters(liveSeries(lastEmission(sink))))

	h := histogramPoint(t, lastEmission(sink), "docker.io", "node-a")
	assert.Equal(t, []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800}, h.ExplicitBounds().AsRaw())
	assert.Equal(t, []uint64{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, h.BucketCounts().AsRaw(), "3.2 s falls in (2.5, 5]")
	assert.InDelta(t, 3.2, h.Sum(), 1e-9)
	assert.InDelta(t, 62.5, histogramPoint(t, lastEmission(sink), "quay.io", "node-b").Sum(), 1e-9, "the pull time, not the time with waiting")
	assert.InDelta(t, 45.1, histogramPoint(t, lastEmission(sink), "registry.example.com:5000", "node-a").Sum(), 1e-9)
}

func histogramPoint(t testing.TB, md pmetric.Metrics, registry, node string) pmetric.HistogramDataPoint {
	t.Helper()
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Name() != "image.pull.duration" {
					continue
				}
				for _, dp := range m.Histogram().DataPoints().All() {
					r, _ := dp.Attributes().Get("registry")
					n, _ := dp.Attributes().Get("node")
					if r.Str() == registry && n.Str() == node && !dp.Flags().NoRecordedValue() {
						return dp
					}
				}
			}
		}
	}
	t.Fatalf("no image.pull.duration point for %s on %s", registry, node)
	return pmetric.HistogramDataPoint{}
}

// TestSlowPulls dates pulls from the kubelet's Pulling event, tells pulls from other waits, and
// falls back to the predecessor's rule when a container has no event at all.
func TestSlowPulls(t *testing.T) {
	c := k8stest.StartT(t)
	const ns = "slow"
	createNamespace(t, c, ns)
	now := time.Now()
	creating := func(name, image string) k8stest.PodContainer {
		return k8stest.PodContainer{Name: name, Image: image, Reason: "ContainerCreating"}
	}
	pulling := mustPod(t, c, ns, "pulling", "node-a", creating("app", "registry.example.com:5000/big/model:7"))
	mustEvent(t, c, k8stest.KubeletEvent(pulling, "app", "Pulling", `Pulling image "registry.example.com:5000/big/model:7"`, now.Add(-10*time.Minute)))
	// Pods with init containers report PodInitializing while their images are pulled.
	initPull := mustPod(t, c, ns, "init-pull", "node-a",
		k8stest.PodContainer{Name: "setup", Init: true, Image: "busybox:1.36", Reason: "PodInitializing"},
		k8stest.PodContainer{Name: "app", Image: "nginx:1.27", Reason: "PodInitializing"})
	mustEvent(t, c, k8stest.KubeletEvent(initPull, "setup", "Pulling", `Pulling image "busybox:1.36"`, now.Add(-6*time.Minute)))
	// Pulled, then stuck on something else: not a slow pull.
	pulled := mustPod(t, c, ns, "pulled", "node-a", creating("app", "nginx:1.27"))
	mustEvent(t, c, k8stest.KubeletEvent(pulled, "app", "Pulling", `Pulling image "nginx:1.27"`, now.Add(-10*time.Minute)))
	mustEvent(t, c, k8stest.KubeletEvent(pulled, "app", "Pulled", `Successfully pulled image "nginx:1.27" in 2s (2s including waiting). Image size: 1 bytes.`, now.Add(-10*time.Minute)))
	// Backing off: the failure series reports it, not the slow one.
	backoff := mustPod(t, c, ns, "backoff", "node-a", creating("app", "nginx:1.27"))
	mustEvent(t, c, k8stest.KubeletEvent(backoff, "app", "Pulling", `Pulling image "nginx:1.27"`, now.Add(-10*time.Minute)))
	mustEvent(t, c, k8stest.KubeletEvent(backoff, "app", "BackOff", `Back-off pulling image "nginx:1.27"`, now.Add(-9*time.Minute)))
	// No event: the predecessor's rule, from when this term first saw it.
	mustPod(t, c, ns, "no-events", "node-b", creating("app", "alpine:3.20"))
	// An excluded registry reports nothing.
	excluded := mustPod(t, c, ns, "excluded", "node-b", creating("app", "harbor.internal/base/os:3"))
	mustEvent(t, c, k8stest.KubeletEvent(excluded, "app", "Pulling", `Pulling image "harbor.internal/base/os:3"`, now.Add(-10*time.Minute)))

	cfg := clusterConfig(c)
	cfg.SlowPullThreshold = 3 * time.Second
	cfg.Registries.Exclude = []string{"*.internal"}
	sink := startReceiver(t, cfg, nil)
	slow := func(pod, container, registry, image, node string) string {
		return series.Format("image.pull.slow", map[string]string{"namespace": ns, "pod": pod, "node": node, "registry": registry, "image": image, "container": container})
	}
	pullingKey := slow("pulling", "app", "registry.example.com:5000", "registry.example.com:5000/big/model:7", "node-a")
	initKey := slow("init-pull", "setup", "docker.io", "busybox:1.36", "node-a")
	noEventsKey := slow("no-events", "app", "docker.io", "alpine:3.20", "node-b")
	got := waitSeries(t, sink, "slow pulls", func(s map[string]float64) bool {
		_, a := s[pullingKey]
		_, b := s[initKey]
		return a && b
	})
	assert.InDelta(t, 600, got[pullingKey], 30)
	assert.InDelta(t, 360, got[initKey], 30)
	assert.NotContains(t, got, noEventsKey, "below the threshold since first seen")
	got = waitSeries(t, sink, "the event-less pull past the threshold", func(s map[string]float64) bool { _, ok := s[noEventsKey]; return ok })
	assert.GreaterOrEqual(t, got[noEventsKey], 3.0)
	assert.Len(t, withPrefix(got, "image.pull.slow"), 3, "pulled, backoff, init's app and excluded are not slow pulls: %v", withPrefix(got, "image.pull.slow"))

	// The pull finishes: the container gets an ID and runs.
	_, err := k8stest.SetContainerStatuses(context.Background(), c.Client, pulling, k8stest.PodContainer{Name: "app", Image: "registry.example.com:5000/big/model:7"})
	require.NoError(t, err)
	waitSeries(t, sink, "finished pull gone", func(s map[string]float64) bool { _, ok := s[pullingKey]; return !ok })
	assert.True(t, everMarkedStale(sink, pullingKey))
}
