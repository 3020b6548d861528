package imagepullreceiver

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEventBurst: a receiver leads with every metric on; another process creates 10,000
// kubelet Pulled events as fast as the API server takes them. Reported: this process's CPU time
// per 1,000 events (watch decoding, transform, counting, the cycles meanwhile) and the heap the
// 10,000 tracked events hold (the informer cache after GC).
//
//	KUBEBUILDER_ASSETS=$(../../test/envtest/build-assets.sh) go test -run '^$' -bench EventBurst -benchtime 1x .
func BenchmarkEventBurst(b *testing.B) {
	c := k8stest.StartT(b)
	const ns = "burst"
	createNamespace(b, c, ns)
	p := mustPod(b, c, ns, "web", "node-a", k8stest.PodContainer{Name: "app", Image: "nginx:1.27"})
	cfg := clusterConfig(c)
	cfg.CollectionInterval = time.Second
	for b.Loop() {
		sink := startReceiver(b, cfg, nil)
		waitLeading(b, sink)
		before, heap0, began := cpuTime(), heapInUse(), time.Now()
		runBurstChild(b, burstOrder{Kubeconfig: c.Kubeconfig, Pod: p, N: burstSize, Workers: 8})
		created := time.Since(began)
		waitSeries(b, sink, "every event counted", func(s map[string]float64) bool { return s[pulledKey] >= burstSize })
		counted, cpu := time.Since(began), cpuTime()-before
		sink.Reset() // the emissions kept by the test are not the receiver's
		heap := int64(heapInUse()) - int64(heap0)
		b.ReportMetric(float64(cpu.Milliseconds())/burstSize*1000, "cpu-ms/1k-events")
		b.ReportMetric(float64(heap)/(1<<20), "heap-MiB/10k-events")
		b.Logf("%d events: created in %s, all counted after %s; CPU %s (%.1f ms per 1,000); heap +%.1f MiB (%d B/event); load average %s",
			burstSize, created.Round(time.Millisecond), counted.Round(time.Millisecond), cpu.Round(time.Millisecond),
			float64(cpu.Milliseconds())/burstSize*1000, float64(heap)/(1<<20), heap/burstSize, loadAverage())
	}
}

// BenchmarkPodsMemory: 10,000 pods on 100 nodes, one in ten failing to pull, listed by a leading
// receiver. Reported: the heap the receiver holds for them (informer cache and tracked
// containers, after GC) and how long the first list took.
//
//	KUBEBUILDER_ASSETS=$(../../test/envtest/build-assets.sh) go test -run '^$' -bench PodsMemory -benchtime 1x .
func BenchmarkPodsMemory(b *testing.B) {
	const pods = 10000
	c := k8stest.StartT(b)
	createNamespace(b, c, "load")
	client := burstClient(b, c)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, 8)
	)
	began := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= pods; i = int(next.Add(1)) {
				app := k8stest.PodContainer{Name: "app", Image: fmt.Sprintf("registry.example.com:5000/team/app-%d:1", i%50)}
				if i%10 == 0 {
					app.Reason, app.Message = "ImagePullBackOff", `Back-off pulling image "`+app.Image+`"`
				}
				side := k8stest.PodContainer{Name: "sidecar", Image: "docker.io/library/envoy:1.31"}
				if _, err := k8stest.CreatePod(context.Background(), client, "load", fmt.Sprintf("pod-%05d", i), fmt.Sprintf("node-%02d", i%100), app, side); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
	b.Logf("created %d pods with statuses in %s", pods, time.Since(began).Round(time.Millisecond))

	cfg := clusterConfig(c)
	cfg.CollectionInterval = time.Minute // one cycle: the one at Ready
	for b.Loop() {
		heap0, start := heapInUse(), time.Now()
		sink := startReceiver(b, cfg, nil)
		got := waitSeries(b, sink, "failures listed", func(s map[string]float64) bool { return len(withPrefix(s, failuresMetric)) == pods/10 })
		listed := time.Since(start)
		sink.Reset() // the emissions kept by the test are not the receiver's
		heap := int64(heapInUse()) - int64(heap0)
		b.ReportMetric(float64(heap)/(1<<20), "heap-MiB/10k-pods")
		b.Logf("%d pods (%d failing): listed and emitted in %s; heap +%.1f MiB (%d B/pod); load average %s",
			pods, len(withPrefix(got, failuresMetric)), listed.Round(time.Millisecond), float64(heap)/(1<<20), heap/pods, loadAverage())
	}
}
