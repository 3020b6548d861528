package imagepullreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

const (
	burstSize   = 10000
	burstPulled = `Successfully pulled image "nginx:1.27" in 1.5s (1.5s including waiting). Image size: 100 bytes.`
)

// createBurst creates n kubelet Pulled events about p with workers in parallel, calling done
// after each; it returns the first error.
func createBurst(ctx context.Context, client kubernetes.Interface, p *corev1.Pod, n, workers int, done func()) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && first.Load() == nil {
				ev := k8stest.KubeletEvent(p, "app", "Pulled", burstPulled, time.Now())
				if _, err := client.CoreV1().Events(p.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				done()
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return *err
	}
	return nil
}

// burstClient is a client that does not throttle the burst.
func burstClient(t testing.TB, c *k8stest.Cluster) kubernetes.Interface {
	t.Helper()
	cfg := *c.Config
	cfg.QPS, cfg.Burst = -1, 0
	client, err := kubernetes.NewForConfig(&cfg)
	require.NoError(t, err)
	return client
}

var pulledKey = pulls("docker.io", "node-a", "pulled")

// startingPoint reads from the log how many existing events the receiver's only term took as
// its starting point; -1 before its events are listed.
func startingPoint(logs *observer.ObservedLogs) int {
	entries := logs.FilterMessage("image events listed; pulls are counted from here on").All()
	if len(entries) != 1 {
		return -1
	}
	return int(entries[0].ContextMap()["existing_events"].(int64))
}

func startObserved(t testing.TB, cfg *Config, host component.Host) (*consumertest.MetricsSink, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	set := settings()
	set.Logger = zap.New(core)
	sink := new(consumertest.MetricsSink)
	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return sink, logs
}

// TestLeaderChangeMidBurst moves the lease from replica A to replica B halfway through a burst
// of 10,000 kubelet events. Nothing is counted twice: B counts exactly the events its starting
// point lacks, and everything A counted is in B's starting point. Pulls recorded while neither
// replica watched (the handover) are in B's starting point too and counted by no one.
func TestLeaderChangeMidBurst(t *testing.T) {
	c := k8stest.StartT(t)
	const ns = "burst"
	createNamespace(t, c, ns)
	p := mustPod(t, c, ns, "web", "node-a", k8stest.PodContainer{Name: "app", Image: "nginx:1.27"})

	electorA, electorB := &leadergatetest.FakeElector{}, &leadergatetest.FakeElector{}
	id := component.MustNewIDWithName("leader_election", "imagepull")
	cfg := clusterConfig(c)
	cfg.K8sLeaderElector = &id
	sinkA, logsA := startObserved(t, cfg, leadergatetest.NewHost(id, electorA))
	sinkB, logsB := startObserved(t, cfg, leadergatetest.NewHost(id, electorB))
	electorA.BecomeLeader()
	waitLeading(t, sinkA)
	assert.Equal(t, 0, startingPoint(logsA))

	var created atomic.Int64
	handedOver := make(chan int64, 1)
	go func() {
		// Hand over once A has counted half of the burst (or the burst is over).
		for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if liveSeries(lastEmission(sinkA))[pulledKey] >= burstSize/2 || created.Load() == burstSize {
				break
			}
		}
		electorA.LoseLeadership()
		electorB.BecomeLeader()
		handedOver <- created.Load()
	}()
	began := time.Now()
	require.NoError(t, createBurst(context.Background(), burstClient(t, c), p, burstSize, 8, func() { created.Add(1) }))
	t.Logf("created %d events in %s", burstSize, time.Since(began))
	at := <-handedOver

	countedA := lastLive(sinkA, pulledKey)
	got := waitSeries(t, sinkB, "B counting the rest", func(s map[string]float64) bool {
		return startingPoint(logsB) >= 0 && int(s[pulledKey])+startingPoint(logsB) == burstSize
	})
	countedB, startB := int(got[pulledKey]), startingPoint(logsB)
	t.Logf("handover after %d events created: A counted %d, B started from %d existing events and counted %d; %d pulls fell in the handover",
		at, countedA, startB, countedB, startB-countedA)
	assert.Equal(t, burstSize, startB+countedB, "B counts each event its starting point lacks, once")
	assert.LessOrEqual(t, countedA, startB, "what A counted is B's starting point, never counted again")
	assert.LessOrEqual(t, countedA+countedB, burstSize, "nothing counted twice")
	assert.Equal(t, float64(countedB*100), got[pullBytes("docker.io", "node-a")])
	assert.Equal(t, float64(countedB), got[durations("docker.io", "node-a")])
	assert.True(t, everMarkedStale(sinkA, pulledKey), "A's counters end with its term")
	assert.Empty(t, liveSeries(lastEmission(sinkA)), "A emits nothing after losing the lease")
}

// lastLive is the newest live value of a series in sink, or 0.
func lastLive(sink *consumertest.MetricsSink, key string) int {
	all := sink.AllMetrics()
	for i := len(all) - 1; i >= 0; i-- {
		if v, ok := liveSeries(all[i])[key]; ok {
			return int(v)
		}
	}
	return 0
}

// burstChildEnv carries the burst to a child process, so that creating the events does not
// count in the receiver's CPU time.
const burstChildEnv = "IMAGEPULL_BURST_CHILD"

type burstOrder struct {
	Kubeconfig string
	Pod        *corev1.Pod
	N, Workers int
}

// TestBurstChild is not a test: BenchmarkEventBurst runs the test binary with this test selected
// to create events from another process.
func TestBurstChild(t *testing.T) {
	raw := os.Getenv(burstChildEnv)
	if raw == "" {
		t.Skip("helper process of BenchmarkEventBurst")
	}
	var order burstOrder
	require.NoError(t, json.Unmarshal([]byte(raw), &order))
	cfg, err := clientcmd.BuildConfigFromFlags("", order.Kubeconfig)
	require.NoError(t, err)
	cfg.QPS, cfg.Burst = -1, 0
	client, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	require.NoError(t, createBurst(context.Background(), client, order.Pod, order.N, order.Workers, func() {}))
	os.Exit(0) // done; the client's idle connections would fail the package's goroutine-leak check
}

func runBurstChild(b *testing.B, order burstOrder) {
	raw, err := json.Marshal(order)
	require.NoError(b, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBurstChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), burstChildEnv+"="+string(raw))
	out, err := cmd.CombinedOutput()
	require.NoError(b, err, "%s", out)
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	var one, five, fifteen string
	_, _ = fmt.Sscan(string(raw), &one, &five, &fifteen)
	return one + " " + five + " " + fifteen
}
