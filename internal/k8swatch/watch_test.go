package k8swatch

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type term struct {
	mu      sync.Mutex
	ready   bool
	reports map[string]error
}

func (t *term) Ready() { t.mu.Lock(); t.ready = true; t.mu.Unlock() }
func (t *term) Report(key string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reports == nil {
		t.reports = map[string]error{}
	}
	t.reports[key] = err
}

func (t *term) report(key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reports[key]
}

// An API server that is down: the outage is reported to the term (client-go's streaming list
// alone never tells), a cycle's Wait says why, and ending the term returns promptly although
// client-go's backoff ignores the stop channel.
func TestUnreachableAPIServerIsReportedAndStopsPromptly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	client, err := kubernetes.NewForConfig(&rest.Config{Host: "https://" + addr, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	require.NoError(t, err)

	before := goleak.IgnoreCurrent()
	w := New("nodes")
	tm := &term{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, tm, VersionProbe(client.Discovery().RESTClient()), informers.NewSharedInformerFactory(client, 0).Core().V1().Nodes().Informer())
	}()

	require.Eventually(t, func() bool { return tm.report(probeKey) != nil }, 10*time.Second, 10*time.Millisecond)
	assert.ErrorContains(t, tm.report(probeKey), "connection refused")
	_, err = w.Wait(context.Background(), 50*time.Millisecond)
	assert.ErrorContains(t, err, "nodes not listed within 50ms")
	assert.ErrorContains(t, err, "connection refused")

	// Let the reflector back off a few times, then end the term.
	time.Sleep(3 * time.Second)
	cancel()
	select {
	case <-done:
	case <-time.After(stopGrace + 5*time.Second):
		t.Fatal("the term did not end")
	}
	_, err = w.Wait(context.Background(), 10*time.Millisecond)
	assert.ErrorContains(t, err, "informers are not running", "between terms nothing is served")

	// The informer itself ends once client-go's backoff (which ignores the stop channel) is over.
	require.Eventually(t, func() bool { return goleak.Find(before) == nil }, 40*time.Second, 500*time.Millisecond, "informer goroutines left: %v", goleak.Find(before))
}
