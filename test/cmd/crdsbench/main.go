// Command crdsbench measures the crds receiver (and, given its binary, kube-state-metrics'
// custom-resource-state) on N KubeBlocks-like Cluster objects in a local API server: time from
// start to the first scrape holding every object, RSS after sync, CPU per collection cycle, and
// /metrics response time and size. `make bench-crds` runs it; see docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/loadtest"
)

var (
	//go:embed collector.yaml
	collectorTemplate string
	//go:embed ksm-crs-clusters.yaml
	ksmConfig []byte
	//go:embed cluster-crd.yaml
	clusterCRD []byte

	clustersGVR = schema.GroupVersionResource{Group: "apps.kubeblocks.io", Version: "v1alpha1", Resource: "clusters"}
	phases      = []string{"Running", "Running", "Running", "Creating", "Updating", "Failed", "Stopped"}
)

func main() {
	binary := flag.String("binary", "bin/otelcol-sealos", "otelcol-sealos binary")
	exporter := flag.String("exporter", "prometheus", "exporter type in the collector config (prometheus, prometheus_state)")
	ksm := flag.String("ksm", "", "kube-state-metrics binary: also measure it on the same objects")
	n := flag.Int("n", 50000, "objects")
	namespaces := flag.Int("namespaces", 50, "namespaces")
	workers := flag.Int("workers", 16, "parallel creates")
	interval := flag.Duration("interval", 10*time.Second, "collection_interval of the crds receiver")
	flag.Parse()
	if err := run(*binary, *exporter, *ksm, *n, *namespaces, *workers, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "crdsbench:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(binary, exporter, ksm string, n, namespaces, workers int, interval time.Duration) error {
	dir, err := os.MkdirTemp("", "crdsbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	step("starting the API server")
	cluster, err := k8stest.Start(dir)
	if err != nil {
		return err
	}
	defer func() { _ = cluster.Stop() }()
	crdPath := filepath.Join(dir, "cluster-crd.yaml")
	if err := os.WriteFile(crdPath, clusterCRD, 0o600); err != nil {
		return err
	}
	if err := cluster.InstallCRDs(crdPath); err != nil {
		return err
	}
	step("creating %d Clusters in %d namespaces with %d workers", n, namespaces, workers)
	began := time.Now()
	if err := load(cluster, n, namespaces, workers); err != nil {
		return err
	}
	step("created in %s", time.Since(began).Round(time.Second))

	var results []result
	port := freePort()
	cfgPath := filepath.Join(dir, "collector.yaml")
	var cfg bytes.Buffer
	tmpl := template.Must(template.New("collector").Parse(collectorTemplate))
	if err := tmpl.Execute(&cfg, map[string]any{"Kubeconfig": cluster.Kubeconfig, "Interval": interval.String(), "Exporter": exporter, "Port": port}); err != nil {
		return err
	}
	if err := os.WriteFile(cfgPath, cfg.Bytes(), 0o600); err != nil {
		return err
	}
	r, err := measure("otelcol-sealos crds + "+exporter, n, port, "sealos_kubeblocks_cluster_info{", interval,
		exec.Command(binary, "--config="+cfgPath))
	if err != nil {
		return err
	}
	results = append(results, r)

	if ksm != "" {
		ksmPath := filepath.Join(dir, "ksm-crs.yaml")
		if err := os.WriteFile(ksmPath, ksmConfig, 0o600); err != nil {
			return err
		}
		port := freePort()
		r, err := measure("kube-state-metrics custom-resource-state", n, port, "kubeblocks_cluster_info{", 0,
			exec.Command(ksm, "--kubeconfig="+cluster.Kubeconfig, "--custom-resource-state-only",
				"--custom-resource-state-config-file="+ksmPath, "--host=127.0.0.1", "--port="+strconv.Itoa(port),
				"--telemetry-host=127.0.0.1", "--telemetry-port="+strconv.Itoa(freePort())))
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	fmt.Printf("\n| exporter, %d objects | start → all objects exported | RSS after sync | CPU per cycle | /metrics p50 | size | series |\n|---|---|---|---|---|---|---|\n", n)
	for _, r := range results {
		fmt.Println(r)
	}
	return nil
}

type result struct {
	name                string
	ready, scrape       time.Duration
	rssMiB, cpuPerCycle float64
	bytes, series       int
}

func (r result) String() string {
	cpu := "–"
	if r.cpuPerCycle >= 0 {
		cpu = fmt.Sprintf("%.2f s", r.cpuPerCycle)
	}
	return fmt.Sprintf("| %s | %.1f s | %.0f MiB | %s | %.3f s | %.1f MB | %dk |", r.name, r.ready.Seconds(), r.rssMiB, cpu,
		r.scrape.Seconds(), float64(r.bytes)/1e6, r.series/1000)
}

// measure starts cmd, waits until /metrics has n lines starting with infoPrefix, then measures.
// interval > 0: the process emits every interval; CPU per cycle is measured over 3 cycles.
func measure(name string, n, port int, infoPrefix string, interval time.Duration, cmd *exec.Cmd) (result, error) {
	r := result{name: name, cpuPerCycle: -1}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	step("starting %s", name)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	deadline := start.Add(15 * time.Minute)
	for {
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%s: not all %d objects exported after 15 minutes; output:\n%s", name, n, tail(out.String()))
		}
		body, _, err := fetch(url)
		if err == nil && countPrefix(body, infoPrefix) >= n {
			break
		}
		select {
		case <-exited:
			return r, fmt.Errorf("%s exited: %s", name, tail(out.String()))
		case <-time.After(250 * time.Millisecond):
		}
	}
	r.ready = time.Since(start)
	step("%s: all objects exported after %s", name, r.ready.Round(100*time.Millisecond))
	time.Sleep(5 * time.Second)
	r.rssMiB = rssMiB(cmd.Process.Pid)
	if interval > 0 {
		before := cpuSeconds(cmd.Process.Pid)
		time.Sleep(3 * interval)
		r.cpuPerCycle = (cpuSeconds(cmd.Process.Pid) - before) / 3
	}
	var times []time.Duration
	for i := 0; i < 5; i++ {
		body, took, err := fetch(url)
		if err != nil {
			return r, err
		}
		times = append(times, took)
		r.bytes = len(body)
		r.series = countSeries(body)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	r.scrape = times[len(times)/2]
	step("%s: %s", name, r)
	return r, nil
}

func fetch(url string) ([]byte, time.Duration, error) {
	client := http.Client{Timeout: 60 * time.Second}
	began := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(began)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, took, err
}

func countPrefix(body []byte, prefix string) int {
	return bytes.Count(body, []byte("\n"+prefix))
}

func countSeries(body []byte) int {
	n := 0
	for _, line := range bytes.Split(body, []byte("\n")) {
		if len(line) > 0 && line[0] != '#' {
			n++
		}
	}
	return n
}

// rssMiB is the process's resident set size in MiB, -1 if it cannot be read.
func rssMiB(pid int) float64 {
	rss, err := loadtest.RSS(pid)
	if err != nil {
		return -1
	}
	return float64(rss) / (1 << 20)
}

// cpuSeconds is the process's user+system CPU time, 0 if it cannot be read.
func cpuSeconds(pid int) float64 {
	d, err := loadtest.CPUTime(pid)
	if err != nil {
		return 0
	}
	return d.Seconds()
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

// load creates n Clusters like ../shared/bench/crload (same fields), status included (the
// bench CRD has no status subresource, so one request per object).
func load(c *k8stest.Cluster, n, namespaces, workers int) error {
	ctx := context.Background()
	for i := 0; i < namespaces; i++ {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns-%03d", i)}}
		if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	var next, done atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || firstErr.Load() != nil {
					return
				}
				o := object(i, fmt.Sprintf("ns-%03d", i%namespaces))
				if _, err := c.Dynamic.Resource(clustersGVR).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{}); err != nil {
					firstErr.Store(err)
					return
				}
				if d := done.Add(1); d%10000 == 0 {
					step("%d objects", d)
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	return nil
}

func object(i int, ns string) *unstructured.Unstructured {
	phase := phases[i%len(phases)]
	ready := "True"
	if phase != "Running" {
		ready = "False"
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster",
		"metadata": map[string]any{"name": fmt.Sprintf("db-%06d", i), "namespace": ns,
			"labels": map[string]any{"app.kubernetes.io/name": "mysql", "team": fmt.Sprintf("t%d", i%20)}},
		"spec": map[string]any{"clusterDefinitionRef": []string{"mysql", "postgresql", "redis", "mongodb"}[i%4],
			"clusterVersionRef": fmt.Sprintf("v8.0.%d", i%5), "replicas": int64(1 + i%3), "terminationPolicy": "Delete"},
		"status": map[string]any{"phase": phase,
			"conditions": []any{
				map[string]any{"type": "Ready", "status": ready, "reason": "Checked"},
				map[string]any{"type": "ProvisioningStarted", "status": "True", "reason": "Started"},
			},
			"components": map[string]any{"mysql": map[string]any{"phase": phase}}},
	}}
}
