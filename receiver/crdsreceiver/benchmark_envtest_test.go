package crdsreceiver

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

// BenchmarkSyncEnvtest lists CRDSRECEIVER_BENCH_OBJECTS (default 10,000) Clusters from a real API
// server through the receiver's informers: time from Lead to up, heap kept after sync, one Collect.
func BenchmarkSyncEnvtest(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("CRDSRECEIVER_BENCH_OBJECTS")); err == nil {
		n = v
	}
	c := k8stest.StartT(b)
	if err := c.InstallCRDs("testdata/crds/cluster.yaml"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	nss := make([]string, 50)
	for i := range nss {
		nss[i] = fmt.Sprintf("ns-%03d", i)
	}
	createNamespaces(b, c, nss...)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				o := benchObject(i)
				md := o["metadata"].(map[string]any)
				delete(md, "uid")
				delete(md, "resourceVersion")
				u := &unstructured.Unstructured{Object: o}
				if _, err := c.Dynamic.Resource(clustersGVR).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cfg := clusterConfig(c.Kubeconfig, benchResource())
	cfg.QPS, cfg.Burst = 200, 400
	for b.Loop() {
		src, err := newCRDsSource(cfg, settingsForBench())
		if err != nil {
			b.Fatal(err)
		}
		if err := src.Start(ctx, nil); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		leadCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		began := time.Now()
		go func() {
			src.Lead(leadCtx, statereceivertest.NewTerm())
			close(done)
		}()
		for !src.stores[0].up.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		b.ReportMetric(time.Since(began).Seconds(), "s-to-up")
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heap-MiB")
		began = time.Now()
		md, _ := src.Collect(ctx)
		b.ReportMetric(time.Since(began).Seconds(), "s-collect")
		b.ReportMetric(float64(md.DataPointCount()), "points")
		stop()
		<-done
	}
}
