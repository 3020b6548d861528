package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

const (
	pullsNamespace = "demo-apps"
	failingImage   = "registry.example.com:5000/demo/web:1.0"
	slowImage      = "ghcr.io/demo/worker:2.1"
	// slowPullAge is how long demo-worker's pull has been running: past the default
	// slow_pull_threshold (5m), so the receiver reports it at its first cycle.
	slowPullAge = 10 * time.Minute
)

// createSamplePulls creates what the imagepull receiver reports from pod status and events: a pod
// whose image cannot be pulled (ErrImagePull, as a kubelet on containerd writes it), one whose pull
// has been running for 10 minutes (ContainerCreating, with the kubelet's Pulling event) and a
// running one.
func createSamplePulls(ctx context.Context, cluster *k8stest.Cluster) error {
	step("creating pods for the imagepull receiver: demo-web (ErrImagePull from a private registry), demo-worker (pulling for %s: a slow pull), demo-api (running)", slowPullAge)
	_, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: pullsNamespace}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	_, err = k8stest.CreatePod(ctx, cluster.Client, pullsNamespace, "demo-web", "demo-healthy", k8stest.PodContainer{
		Name: "web", Image: failingImage, Reason: "ErrImagePull",
		Message: fmt.Sprintf(`rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found`, failingImage, failingImage, failingImage),
	})
	if err != nil {
		return err
	}
	worker, err := k8stest.CreatePod(ctx, cluster.Client, pullsNamespace, "demo-worker", "demo-healthy", k8stest.PodContainer{
		Name: "worker", Image: slowImage, Reason: "ContainerCreating",
	})
	if err != nil {
		return err
	}
	// The kubelet's latest image event for the container says since when the pull runs.
	pulling := k8stest.KubeletEvent(worker, "worker", "Pulling", fmt.Sprintf("Pulling image %q", slowImage), time.Now().Add(-slowPullAge))
	if _, err := cluster.Client.CoreV1().Events(pullsNamespace).Create(ctx, pulling, metav1.CreateOptions{}); err != nil {
		return err
	}
	_, err = k8stest.CreatePod(ctx, cluster.Client, pullsNamespace, "demo-api", "demo-healthy", k8stest.PodContainer{Name: "api", Image: "nginx:1.27"})
	return err
}

// reportSamplePull records a kubelet Pulled event for demo-api. It comes after the receiver
// started: events that exist when it starts leading are its starting point, not new pulls.
func reportSamplePull(ctx context.Context, cluster *k8stest.Cluster) error {
	step("a kubelet reports a pull: Pulled event for demo-api (nginx:1.27 in 3.2s, 73 MB)")
	api, err := cluster.Client.CoreV1().Pods(pullsNamespace).Get(ctx, "demo-api", metav1.GetOptions{})
	if err != nil {
		return err
	}
	ev := k8stest.KubeletEvent(api, "api", "Pulled",
		`Successfully pulled image "nginx:1.27" in 3.2s (3.5s including waiting). Image size: 73400320 bytes.`, time.Now())
	_, err = cluster.Client.CoreV1().Events(pullsNamespace).Create(ctx, ev, metav1.CreateOptions{})
	return err
}
