package imagepullreceiver

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
)

const digest = "sha256:6a3f2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"

// reasonCases are pull failures the way kubelets on containerd report them, one per class.
// Images cover a private registry with a port, a digest, localhost and a Docker Hub short name.
var reasonCases = []struct {
	pod, image, reason, message, class string
}{
	{"not-found", "docker.io/library/nope:1", "ErrImagePull",
		`rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nope:1": failed to resolve reference "docker.io/library/nope:1": docker.io/library/nope:1: not found`, "image_not_found"},
	{"private-port", "registry.example.com:5000/team/app:1.2", "ErrImagePull",
		`rpc error: code = Unknown desc = failed to pull and unpack image "registry.example.com:5000/team/app:1.2": failed to resolve reference "registry.example.com:5000/team/app:1.2": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`, "image_not_found"},
	{"unauthorized", "ghcr.io/acme/private:2", "ErrImagePull",
		`rpc error: code = Unknown desc = failed to pull and unpack image "ghcr.io/acme/private:2": failed to resolve reference "ghcr.io/acme/private:2": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token: 401 Unauthorized`, "unauthorized"},
	{"proxy", "quay.io/org/app@" + digest, "ErrImagePull",
		`rpc error: code = Unknown desc = failed to pull and unpack image "quay.io/org/app@` + digest + `": failed to resolve reference: failed to do request: Head "https://quay.io/v2/org/app/manifests/` + digest + `": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused`, "proxy_error"},
	{"tls", "harbor.internal/base/os:3", "ErrImagePull",
		`rpc error: code = Unknown desc = failed to pull and unpack image "harbor.internal/base/os:3": failed to resolve reference "harbor.internal/base/os:3": failed to do request: Head "https://harbor.internal/v2/base/os/manifests/3": tls: failed to verify certificate: x509: certificate signed by unknown authority`, "tls_handshake_error"},
	{"timeout", "gcr.io/proj/tool:5", "ErrImagePull",
		`rpc error: code = Unknown desc = failed to pull and unpack image "gcr.io/proj/tool:5": failed to resolve reference "gcr.io/proj/tool:5": failed to do request: Head "https://gcr.io/v2/proj/tool/manifests/5": dial tcp 142.250.1.82:443: i/o timeout`, "io_timeout"},
	{"refused", "localhost:5000/dev/api:latest", "ErrImagePull",
		`rpc error: code = Unknown desc = failed to pull and unpack image "localhost:5000/dev/api:latest": failed to resolve reference "localhost:5000/dev/api:latest": failed to do request: Head "https://localhost:5000/v2/dev/api/manifests/latest": dial tcp 127.0.0.1:5000: connect: connection refused`, "connection_refused"},
	{"network", "registry.k8s.io/pause:3.10", "ErrImagePull",
		`rpc error: code = Unknown desc = failed to pull and unpack image "registry.k8s.io/pause:3.10": failed to resolve reference "registry.k8s.io/pause:3.10": failed to do request: Head "https://registry.k8s.io/v2/pause/manifests/3.10": EOF`, "network_error"},
	{"backoff", "nginx:1.27", "ImagePullBackOff", `Back-off pulling image "nginx:1.27"`, "back_off_pulling_image"},
	{"unknown", "busybox", "ErrImagePull", `rpc error: code = Unknown desc = unexpected media type text/html for sha256:1`, "unknown"},
	{"invalid", "Registry.Example.com/App", "InvalidImageName",
		`Failed to apply default image tag "Registry.Example.com/App": couldn't parse image name "Registry.Example.com/App": invalid reference format: repository name (App) must be lowercase`, "invalidimagename"},
	{"unavailable", "registry.example.com:5000/team/app:1.2", "RegistryUnavailable",
		`image pull failed for registry.example.com:5000/team/app:1.2 because the registry is unavailable`, "registryunavailable"},
	{"inspect", "alpine:3.20", "ImageInspectError", `Failed to inspect image "alpine:3.20": rpc error: code = Unknown desc = context deadline exceeded`, "imageinspecterror"},
	{"never", "app:local", "ErrImageNeverPull", `Container image "app:local" is not present with pull policy of Never`, "errimageneverpull"},
	{"signature", "registry.example.com:5000/signed/app:1", "SignatureValidationFailed",
		`image pull failed for registry.example.com:5000/signed/app:1 because the signature validation failed: policy denied`, "signaturevalidationfailed"},
	{"not-ensured", "ghcr.io/acme/private:2", "ErrImageNotEnsured",
		`Container image "sha256:abc" is present with pull policy of "IfNotPresent" but does not have the proper auth (image secret) that was used to pull the image`, "errimagenotensured"},
	{"cancelled", "redis:7", "Cancelled", `context canceled`, "cancelled"},
}

const failuresMetric = "image.pull.failures"

func failure(ns, pod, node, registry, image, reason, container string) string {
	return series.Format(failuresMetric, map[string]string{
		"namespace": ns, "pod": pod, "node": node, "registry": registry, "image": image, "reason": reason, "container": container,
	})
}

// TestFailuresFromPodStatus writes container statuses through the status subresource as the
// kubelet does and checks one golden file per failure class, the container label that keeps two
// identical containers apart, the stickiness of a cause across back-offs, and that a container
// that stops failing loses its series at once.
func TestFailuresFromPodStatus(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	const ns = "pulls"
	createNamespace(t, c, ns)
	for _, rc := range reasonCases {
		_, err := k8stest.CreatePod(ctx, c.Client, ns, rc.pod, "node-a", k8stest.PodContainer{Name: "app", Image: rc.image, Reason: rc.reason, Message: rc.message})
		require.NoError(t, err)
	}
	// The predecessor's trap: same image, same reason, two containers → two series, not one twice.
	twinFail := k8stest.PodContainer{Image: "registry.example.com:5000/team/app:1.2", Reason: "ErrImagePull", Message: reasonCases[0].message}
	a, b := twinFail, twinFail
	a.Name, b.Name = "a", "b"
	_, err := k8stest.CreatePod(ctx, c.Client, ns, "twins", "node-b", a, b)
	require.NoError(t, err)
	// Failing init container and running regular one.
	_, err = k8stest.CreatePod(ctx, c.Client, ns, "init", "node-b",
		k8stest.PodContainer{Name: "setup", Init: true, Image: "busybox:1.36", Reason: "ImagePullBackOff", Message: `Back-off pulling image "busybox:1.36"`},
		k8stest.PodContainer{Name: "app", Image: "nginx:1.27", Reason: "PodInitializing"})
	require.NoError(t, err)
	// Not scheduled, finished or running: nothing to report.
	_, err = c.Client.CoreV1().Pods(ns).Create(ctx, podWithoutNode(ns, "pending"), createOpts)
	require.NoError(t, err)
	_, err = k8stest.CreatePod(ctx, c.Client, ns, "running", "node-a", k8stest.PodContainer{Name: "app", Image: "nginx:1.27"})
	require.NoError(t, err)

	sink := startReceiver(t, clusterConfig(c), nil)
	want := map[string]bool{}
	for _, rc := range reasonCases {
		want[rc.pod] = true
	}
	got := waitSeries(t, sink, "a failure series per case", func(s map[string]float64) bool {
		return len(withPrefix(s, failuresMetric)) == len(reasonCases)+3
	})
	assert.Equal(t, 1.0, got[failure(ns, "twins", "node-b", "registry.example.com:5000", twinFail.Image, "image_not_found", "a")])
	assert.Equal(t, 1.0, got[failure(ns, "twins", "node-b", "registry.example.com:5000", twinFail.Image, "image_not_found", "b")])
	assert.Equal(t, 1.0, got[failure(ns, "init", "node-b", "docker.io", "busybox:1.36", "back_off_pulling_image", "setup")])

	md := lastEmission(sink)
	for _, rc := range reasonCases {
		t.Run(rc.pod, func(t *testing.T) {
			gotPod := podPoints(md, rc.pod)
			path := filepath.Join("testdata", "reasons", rc.pod+".yaml")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				require.NoError(t, golden.WriteMetrics(t, path, gotPod))
			}
			wantPod, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			require.NoError(t, pmetrictest.CompareMetrics(wantPod, gotPod, pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp()))
		})
	}

	t.Run("a back-off keeps the cause", func(t *testing.T) {
		notFound := reasonCases[0]
		p, err := k8stest.CreatePod(ctx, c.Client, ns, "sticky", "node-a",
			k8stest.PodContainer{Name: "app", Image: notFound.image, Reason: notFound.reason, Message: notFound.message},
			k8stest.PodContainer{Name: "side", Image: "busybox", Reason: "ErrImagePull", Message: "rpc error: code = Unknown desc = boom"})
		require.NoError(t, err)
		stuck := failure(ns, "sticky", "node-a", "docker.io", notFound.image, "image_not_found", "app")
		side := failure(ns, "sticky", "node-a", "docker.io", "busybox", "unknown", "side")
		waitSeries(t, sink, "sticky pod failing", func(s map[string]float64) bool { return s[stuck] == 1 && s[side] == 1 })
		// The kubelet's next sync: back-off for app (its message names no cause), side now runs.
		_, err = k8stest.SetContainerStatuses(ctx, c.Client, p,
			k8stest.PodContainer{Name: "app", Image: notFound.image, Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + notFound.image + `"`},
			k8stest.PodContainer{Name: "side", Image: "busybox"})
		require.NoError(t, err)
		got := waitSeries(t, sink, "side recovered", func(s map[string]float64) bool { _, ok := s[side]; return !ok })
		assert.Equal(t, 1.0, got[stuck], "the back-off keeps image_not_found")
		assert.NotContains(t, got, failure(ns, "sticky", "node-a", "docker.io", notFound.image, "back_off_pulling_image", "app"))
		assert.True(t, everMarkedStale(sink, side), "the recovered container's series was marked stale")
	})

	t.Run("a deleted pod loses its series", func(t *testing.T) {
		require.NoError(t, c.Client.CoreV1().Pods(ns).Delete(ctx, "twins", deleteOpts))
		got := waitSeries(t, sink, "twins gone", func(s map[string]float64) bool { return len(podSeries(s, "twins")) == 0 })
		assert.Len(t, withPrefix(got, failuresMetric), len(reasonCases)+2) // + init + sticky
	})
}

// podPoints copies md's live failure point of one pod.
func podPoints(md pmetric.Metrics, pod string) pmetric.Metrics {
	out := pmetric.NewMetrics()
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Name() != failuresMetric {
					continue
				}
				for _, dp := range m.Gauge().DataPoints().All() {
					if v, _ := dp.Attributes().Get("pod"); v.Str() != pod || dp.Flags().NoRecordedValue() {
						continue
					}
					osm := out.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
					sm.Scope().CopyTo(osm.Scope())
					om := osm.Metrics().AppendEmpty()
					om.SetName(m.Name())
					om.SetDescription(m.Description())
					om.SetUnit(m.Unit())
					dp.CopyTo(om.SetEmptyGauge().DataPoints().AppendEmpty())
				}
			}
		}
	}
	return out
}

// podSeries keeps the series of one pod.
func podSeries(all map[string]float64, pod string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range all {
		if strings.Contains(k, `pod="`+pod+`"`) {
			out[k] = v
		}
	}
	return out
}

// everMarkedStale says whether any emission so far flagged the series as gone.
func everMarkedStale(sink *consumertest.MetricsSink, key string) bool {
	for _, md := range sink.AllMetrics() {
		if slices.Contains(series.Stale(md), key) {
			return true
		}
	}
	return false
}

var (
	createOpts = metav1.CreateOptions{}
	deleteOpts = metav1.DeleteOptions{GracePeriodSeconds: new(int64)} // no kubelet finishes a graceful delete
)

func podWithoutNode(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
	}
}
