package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

const imagePullConfig = `receivers:
  imagepull:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 200ms
    initial_delay: 0s
`

const pullNotFound = `rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com:5000/team/app:1.2": not found`

// TestImagePullThroughPrometheus runs the binary against kubelet-like pods and events: the
// predecessor's trap (two containers, same image, same reason) gives two series and a good
// scrape, a private registry keeps its port, an image by digest its registry, slow pulls keep
// the predecessor's name, and a kubelet Pulled event shows up in the counters and the histogram.
func TestImagePullThroughPrometheus(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	const ns = "apps"
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	const private = "registry.example.com:5000/team/app:1.2"
	const byDigest = "quay.io/org/api@sha256:6a3f2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"
	_, err = k8stest.CreatePod(ctx, c.Client, ns, "twins", "node-a",
		k8stest.PodContainer{Name: "a", Image: private, Reason: "ErrImagePull", Message: pullNotFound},
		k8stest.PodContainer{Name: "b", Image: private, Reason: "ErrImagePull", Message: pullNotFound})
	require.NoError(t, err)
	_, err = k8stest.CreatePod(ctx, c.Client, ns, "api", "node-b",
		k8stest.PodContainer{Name: "api", Image: byDigest, Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + byDigest + `"`})
	require.NoError(t, err)
	big, err := k8stest.CreatePod(ctx, c.Client, ns, "big", "node-b", k8stest.PodContainer{Name: "model", Image: "nginx:1.27", Reason: "ContainerCreating"})
	require.NoError(t, err)
	_, err = c.Client.CoreV1().Events(ns).Create(ctx, k8stest.KubeletEvent(big, "model", "Pulling", `Pulling image "nginx:1.27"`, time.Now().Add(-10*time.Minute)), metav1.CreateOptions{})
	require.NoError(t, err)

	port := otelcoltest.FreePort(t)
	col := otelcoltest.Start(t, writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(imagePullConfig, c.Kubeconfig), port, 0, "imagepull")))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	failure := func(pod, container, image, registry, reason, node string) string {
		return series.Format("sealos_image_pull_failures", map[string]string{
			"namespace": ns, "pod": pod, "container": container, "image": image, "registry": registry, "reason": reason, "node": node,
		})
	}
	want := map[string]float64{
		failure("twins", "a", private, "registry.example.com:5000", "image_not_found", "node-a"): 1,
		failure("twins", "b", private, "registry.example.com:5000", "image_not_found", "node-a"): 1,
		failure("api", "api", byDigest, "quay.io", "back_off_pulling_image", "node-b"):           1,
	}
	slow := series.Format("sealos_image_pull_slow", map[string]string{
		"namespace": ns, "pod": "big", "container": "model", "image": "nginx:1.27", "registry": "docker.io", "node": "node-b",
	})
	got := scrapeUntil(t, col, url, "failures and the slow pull", func(all map[string]float64) bool {
		return assert.ObjectsAreEqual(want, series.WithPrefix(all, "sealos_image_pull_failures")) && all[slow] > 0
	})
	assert.InDelta(t, 600, got[slow], 60, "seconds since the Pulling event")
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="imagepull"}`])

	// A kubelet's Pulled event after the receiver listed: counted, timed, sized.
	web, err := k8stest.CreatePod(ctx, c.Client, ns, "web", "node-a", k8stest.PodContainer{Name: "app", Image: "nginx:1.27"})
	require.NoError(t, err)
	_, err = c.Client.CoreV1().Events(ns).Create(ctx, k8stest.KubeletEvent(web, "app", "Pulled",
		`Successfully pulled image "nginx:1.27" in 3.2s (3.5s including waiting). Image size: 73400320 bytes.`, time.Now()), metav1.CreateOptions{})
	require.NoError(t, err)
	pulled := `sealos_image_pulls_total{node="node-a",registry="docker.io",result="pulled"}`
	got = scrapeUntil(t, col, url, "the pull counted", func(all map[string]float64) bool { return all[pulled] == 1 })
	assert.Equal(t, 0.0, got[`sealos_image_pulls_total{node="node-a",registry="docker.io",result="cache_hit"}`])
	assert.Equal(t, 0.0, got[`sealos_image_pulls_total{node="node-a",registry="docker.io",result="failed"}`])
	assert.Equal(t, 73400320.0, got[`sealos_image_pull_bytes_total{node="node-a",registry="docker.io"}`])
	assert.Equal(t, 1.0, got[`sealos_image_pull_duration_seconds_count{node="node-a",registry="docker.io"}`])
	assert.InDelta(t, 3.2, got[`sealos_image_pull_duration_seconds_sum{node="node-a",registry="docker.io"}`], 1e-9)
	assert.Equal(t, 0.0, got[`sealos_image_pull_duration_seconds_bucket{le="2.5",node="node-a",registry="docker.io"}`])
	assert.Equal(t, 1.0, got[`sealos_image_pull_duration_seconds_bucket{le="5",node="node-a",registry="docker.io"}`])
	assert.Equal(t, 1.0, got[`sealos_image_pull_duration_seconds_bucket{le="1800",node="node-a",registry="docker.io"}`])

	// One of the twins recovers: its series goes at once, the other stays.
	twins, err := c.Client.CoreV1().Pods(ns).Get(ctx, "twins", metav1.GetOptions{})
	require.NoError(t, err)
	_, err = k8stest.SetContainerStatuses(ctx, c.Client, twins,
		k8stest.PodContainer{Name: "a", Image: private},
		k8stest.PodContainer{Name: "b", Image: private, Reason: "ErrImagePull", Message: pullNotFound})
	require.NoError(t, err)
	gone := failure("twins", "a", private, "registry.example.com:5000", "image_not_found", "node-a")
	got = scrapeUntil(t, col, url, "the recovered container gone", func(all map[string]float64) bool { _, ok := all[gone]; return !ok })
	assert.Equal(t, 1.0, got[failure("twins", "b", private, "registry.example.com:5000", "image_not_found", "node-a")])
}

// scrapeUntil scrapes until ok holds; every scrape must succeed once the exporter is up.
func scrapeUntil(t *testing.T, col *otelcoltest.Process, url, what string, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	var (
		got     map[string]float64
		lastErr error
	)
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		all, err := otelcoltest.Scrape(url)
		if err == nil {
			got = all
			if ok(all) {
				return all
			}
		} else if got != nil {
			lastErr = err // the exporter answered before: a failed scrape now is a failure
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not seen (scrape error: %v); series: %v\ncollector exited: %v\n%s", what, lastErr, series.WithPrefix(got, "sealos_image_"), col.Exited(), col.Output())
	return nil
}
