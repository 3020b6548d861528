package nodereceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/receiver/nodereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

// benchNodes is the cluster size of BenchmarkCollect5000Nodes; NODERECEIVER_BENCH_NODES
// overrides it for a quick trial of the benchmark itself.
const benchNodes = 5000

// BenchmarkCollect5000Nodes measures the node receiver against a real API server (envtest)
// holding 5,000 nodes with realistic objects. Setup (API server, nodes, informer sync) is
// outside the timer; each iteration is one Collect, i.e. one emission. Reported per
// sub-benchmark:
//
//	heap-MiB             heap in use (HeapInuse) held by the informer after sync, delta vs before
//	                     it started
//	live-heap-MiB        the same for live heap objects (HeapAlloc), less sensitive to span reuse
//	cpu-ms/emission      process user+sys CPU per Collect (includes GC), from getrusage
//	datapoints/emission  data points of one emission
//	otlp-bytes/emission  OTLP protobuf size of one emission
//
// Sub-benchmarks: abnormal (default: only abnormal conditions of unhealthy nodes),
// all-conditions (report_all_conditions), and no-transform (default mode over a plain
// informer without stripNode, to show the transform's heap saving).
//
// Run with (or `make bench`): GOWORK=off go test -run '^$' -bench BenchmarkCollect5000Nodes -benchtime 20x -timeout 30m .
func BenchmarkCollect5000Nodes(b *testing.B) {
	if testing.Short() {
		b.Skip("needs an envtest API server and 5,000 nodes")
	}
	if _, err := os.Stat(filepath.Join(k8stest.AssetsDir(), "kube-apiserver")); err != nil {
		b.Skipf("envtest binaries missing in %s: run `make envtest-assets`", k8stest.AssetsDir())
	}
	nodes := benchNodes
	if v := os.Getenv("NODERECEIVER_BENCH_NODES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("NODERECEIVER_BENCH_NODES=%q: want a positive integer", v)
		}
		nodes = n
	}

	cluster := k8stest.StartT(b)
	rc := rest.CopyConfig(cluster.Config)
	rc.QPS, rc.Burst = 500, 1000
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := createBenchNodes(context.Background(), client, nodes, 16); err != nil {
		b.Fatal(err)
	}
	b.Logf("created %d nodes in %s", nodes, time.Since(start).Round(time.Millisecond))

	cfg := createDefaultConfig().(*Config)
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: cluster.Kubeconfig, QPS: 20, Burst: 40}
	cfg.IgnoreNewNodeDuration = 0
	cfg.SyncTimeout = time.Minute

	// The receiver as shipped: Lead runs the informer with stripNode.
	s, heap, stop := startBenchSource(b, cfg, true)
	for _, mode := range []struct {
		name string
		all  bool
	}{{"abnormal", false}, {"all-conditions", true}} {
		b.Run(mode.name, func(b *testing.B) {
			cfg.ReportAllConditions = mode.all
			benchCollect(b, s, heap)
		})
	}
	stop()

	// The same cache filled by an informer without the transform, for comparison.
	cfg.ReportAllConditions = false
	s, heap, stop = startBenchSource(b, cfg, false)
	b.Run("no-transform", func(b *testing.B) { benchCollect(b, s, heap) })
	stop()
}

// benchCollect times one Collect per iteration and reports the figures described on
// BenchmarkCollect5000Nodes.
func benchCollect(b *testing.B, s *nodeSource, heap heapDelta) {
	ctx := context.Background()
	md, err := s.Collect(ctx) // warm the metrics builder's buffers
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runtime.GC()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for range b.N {
		if md, err = s.Collect(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	b.ReportMetric(float64(heap.inuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(heap.alloc)/(1<<20), "live-heap-MiB")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e6/float64(b.N), "cpu-ms/emission")
	b.ReportMetric(float64(md.DataPointCount()), "datapoints/emission")
	b.ReportMetric(float64((&pmetric.ProtoMarshaler{}).MetricsSize(md)), "otlp-bytes/emission")
}

// startBenchSource starts a node source, waits for its cache to hold every node and returns
// it with the heap the informer holds. With transform it runs Lead as the receiver does;
// without, an informer lacking stripNode fills the source's cache. stop ends the informer.
func startBenchSource(b *testing.B, cfg *Config, transform bool) (s *nodeSource, heap heapDelta, stop func()) {
	b.Helper()
	s = newNodeSource(cfg, receivertest.NewNopSettings(metadata.Type))
	if err := s.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	before := readHeap()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	term := statereceivertest.NewTerm()
	if transform {
		go func() { defer close(done); s.Lead(ctx, term) }()
	} else {
		informer := informers.NewSharedInformerFactory(s.client, 0).Core().V1().Nodes().Informer()
		go func() { defer close(done); s.nodes.Run(ctx, term, nil, informer) }()
	}
	stop = func() { cancel(); <-done }
	// Collect waits for the first full list; the store is set as soon as the informer exists.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		nodes, err := s.cachedNodes(ctx)
		if err == nil {
			b.Logf("informer (transform=%t) synced %d nodes", transform, len(nodes))
			break
		}
		if time.Now().After(deadline) {
			stop()
			b.Fatalf("node cache not synced: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := readHeap()
	heap = heapDelta{inuse: sub0(after.inuse, before.inuse), alloc: sub0(after.alloc, before.alloc)}
	return s, heap, stop
}

// heapDelta is heap memory in bytes: in use (HeapInuse, whole spans) and live objects (HeapAlloc).
type heapDelta struct{ inuse, alloc uint64 }

func readHeap() heapDelta {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return heapDelta{inuse: ms.HeapInuse, alloc: ms.HeapAlloc}
}

func sub0(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}

// processCPU is the user+system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// createBenchNodes creates n realistic nodes with workers concurrent clients.
func createBenchNodes(ctx context.Context, client kubernetes.Interface, n, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idx := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for i := range idx {
				if err := createBenchNode(ctx, client, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idx)
	wg.Wait()
	return firstErr
}

// createBenchNode creates node i as a kubelet would leave it: labels, annotations, capacity,
// addresses, node info, images and the five standard conditions. 5% of the nodes are
// unhealthy: NotReady, status Unknown (kubelet gone), memory or disk pressure.
func createBenchNode(ctx context.Context, client kubernetes.Interface, i int) error {
	name := fmt.Sprintf("node-%05d", i)
	zone := fmt.Sprintf("cn-hangzhou-%c", 'a'+i%4)
	ip := fmt.Sprintf("10.%d.%d.%d", 16+i/65536, i/256%256, i%256)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"beta.kubernetes.io/arch":          "amd64",
				"beta.kubernetes.io/os":            "linux",
				"kubernetes.io/arch":               "amd64",
				"kubernetes.io/hostname":           name,
				"kubernetes.io/os":                 "linux",
				"node.kubernetes.io/instance-type": "ecs.g7.4xlarge",
				"topology.kubernetes.io/region":    "cn-hangzhou",
				"topology.kubernetes.io/zone":      zone,
				"sealos.io/pool":                   fmt.Sprintf("pool-%d", i%8),
			},
			Annotations: map[string]string{
				"kubeadm.alpha.kubernetes.io/cri-socket":                 "unix:///var/run/containerd/containerd.sock",
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
				"projectcalico.org/IPv4Address":                          ip + "/16",
			},
		},
		Spec: corev1.NodeSpec{
			PodCIDR:    fmt.Sprintf("100.%d.%d.0/24", 64+i/256%64, i%256),
			PodCIDRs:   []string{fmt.Sprintf("100.%d.%d.0/24", 64+i/256%64, i%256)},
			ProviderID: fmt.Sprintf("alicloud://cn-hangzhou.i-bp1%017d", i),
		},
	}
	created, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	created.Status = benchNodeStatus(i, name, ip)
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting status of %s: %w", name, err)
	}
	return nil
}

func benchNodeStatus(i int, name, ip string) corev1.NodeStatus {
	now := metav1.Now()
	since := metav1.NewTime(now.Add(-72 * time.Hour))
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, LastHeartbeatTime: now, LastTransitionTime: since, Reason: reason, Message: msg}
	}
	conds := []corev1.NodeCondition{
		cond(corev1.NodeNetworkUnavailable, corev1.ConditionFalse, "CalicoIsUp", "Calico is running on this node"),
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
	}
	switch i % 80 { // 4 of every 80 nodes, i.e. 5%, are unhealthy
	case 0:
		conds[4] = cond(corev1.NodeReady, corev1.ConditionFalse, "KubeletNotReady",
			"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")
	case 20:
		for j := range conds[1:] {
			conds[j+1].Status, conds[j+1].Reason, conds[j+1].Message = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
		}
	case 40:
		conds[1] = cond(corev1.NodeMemoryPressure, corev1.ConditionTrue, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
	case 60:
		conds[2] = cond(corev1.NodeDiskPressure, corev1.ConditionTrue, "KubeletHasDiskPressure", "kubelet has disk pressure")
	}
	res := func(cpu, mem, storage string) corev1.ResourceList {
		return corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse(cpu),
			corev1.ResourceMemory:           resource.MustParse(mem),
			corev1.ResourceEphemeralStorage: resource.MustParse(storage),
			corev1.ResourcePods:             resource.MustParse("110"),
			"hugepages-1Gi":                 resource.MustParse("0"),
			"hugepages-2Mi":                 resource.MustParse("0"),
		}
	}
	images := []struct {
		repo, tag string
		size      int64
	}{
		{"docker.io/calico/node", "v3.27.3", 116_000_000},
		{"docker.io/calico/cni", "v3.27.3", 94_000_000},
		{"registry.k8s.io/kube-proxy", "v1.35.4", 30_000_000},
		{"ghcr.io/labring/otelcol-sealos", "v0.1.0", 48_000_000},
		{"docker.io/library/nginx", "1.27.2", 72_000_000},
		{"quay.io/prometheus/node-exporter", "v1.8.2", 12_000_000},
		{"registry.k8s.io/pause", "3.10", 320_000},
		{"docker.io/library/postgres", "16.4", 160_000_000},
	}
	var imgs []corev1.ContainerImage
	for k, img := range images {
		digest := fmt.Sprintf("%s@sha256:%064x", img.repo, uint64(k+1)*0x9e3779b97f4a7c15)
		imgs = append(imgs, corev1.ContainerImage{Names: []string{digest, img.repo + ":" + img.tag}, SizeBytes: img.size})
	}
	return corev1.NodeStatus{
		Capacity:    res("16", "64Gi", "200Gi"),
		Allocatable: res("15800m", "62Gi", "184Gi"),
		Conditions:  conds,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: ip},
			{Type: corev1.NodeHostName, Address: name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               fmt.Sprintf("%032x", i+1),
			SystemUUID:              fmt.Sprintf("%08x-0000-4000-8000-%012x", i+1, i+1),
			BootID:                  fmt.Sprintf("%08x-1111-4111-8111-%012x", i+1, i+1),
			KernelVersion:           "5.15.0-119-generic",
			OSImage:                 "Ubuntu 22.04.4 LTS",
			ContainerRuntimeVersion: "containerd://1.7.22",
			KubeletVersion:          "v1.35.4",
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
		Images: imgs,
	}
}
