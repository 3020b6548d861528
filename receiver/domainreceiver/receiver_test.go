package domainreceiver

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

// droppingListener closes the first drop connections it accepts, so handshakes fail until then.
type droppingListener struct {
	net.Listener
	mu       sync.Mutex
	drop     int
	accepted int
}

func (l *droppingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.accepted++
		dropIt := l.drop > 0
		l.drop--
		l.mu.Unlock()
		if !dropIt {
			return c, nil
		}
		_ = c.Close()
	}
}

func TestDialRetriesRideOutDroppedConnections(t *testing.T) {
	ca := newCA(t, "Test Root CA")
	for _, tt := range []struct {
		retries int
		want    string
	}{{retries: 2, want: reasonTLSHandshake}, {retries: 3, want: reasonNone}} {
		t.Run(strconv.Itoa(tt.retries), func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			serveTLSOn(t, ca.leaf(t, testNow.Add(-time.Hour), testNow.Add(time.Hour), "retry.test"), http.NotFoundHandler(), &droppingListener{Listener: l, drop: 2})
			cfg := createDefaultConfig().(*Config)
			cfg.DialRetries = tt.retries
			cfg.Timeout = 5 * time.Second
			s := newDomainSource(cfg, receivertest.NewNopSettings(metadata.Type))
			s.now = func() time.Time { return testNow }
			require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
			addr := l.Addr().(*net.TCPAddr)
			tg := s.newTarget(Target{Endpoint: addr.String(), InsecureSkipVerify: true})
			conn, got := s.checkCert(context.Background(), tg, addr.AddrPort().Addr())
			if conn != nil {
				_ = conn.Close()
			}
			assert.Equal(t, tt.want, got.reason)
		})
	}
}

// Both checks of an address share one connection: one handshake per address and cycle.
func TestBothChecksShareOneConnection(t *testing.T) {
	ca := newCA(t, "Test Root CA")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	counting := &droppingListener{Listener: l}
	serveTLSOn(t, ca.leaf(t, testNow.Add(-time.Hour), testNow.Add(time.Hour), "127.0.0.1"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }), counting)
	cfg := createDefaultConfig().(*Config)
	cfg.Targets = []Target{{Endpoint: l.Addr().String(), InsecureSkipVerify: true, FollowRedirects: true}}
	md := collect(t, cfg)
	counting.mu.Lock()
	defer counting.mu.Unlock()
	assert.Equal(t, 1, counting.accepted)
	got := seriesOf(md)
	assert.Equal(t, 1.0, got[`domain.status{check_type=cert,ip=127.0.0.1}`])
	assert.Equal(t, 1.0, got[`domain.status{check_type=http,ip=127.0.0.1}`])
	assert.Equal(t, 1.0, got[`domain.health{type=healthy_ips}`])
}

// hangingTarget serves a request that never answers on 127.0.0.1 and reports when it arrived.
func hangingTarget(t *testing.T) (endpoint string, arrived <-chan struct{}) {
	t.Helper()
	ca := newCA(t, "Test Root CA")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	got := make(chan struct{}, 1)
	serveTLSOn(t, ca.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "hang.test"), http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case got <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}), l)
	return l.Addr().String(), got
}

// Shutdown does not wait for the running cycle's checks to reach their timeout.
func TestShutdownAbortsTheRunningCycle(t *testing.T) {
	endpoint, arrived := hangingTarget(t)
	cfg := createDefaultConfig().(*Config)
	cfg.Timeout = 10 * time.Minute
	cfg.IncludeCertCheck = false
	cfg.Targets = []Target{{Endpoint: endpoint, InsecureSkipVerify: true}}
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the check never reached the server")
	}
	done := make(chan error, 1)
	go func() { done <- rcv.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown waited for the check's 10m timeout")
	}
}

// A follower checks nothing and emits nothing; the leader does both.
func TestOnlyTheLeaderChecks(t *testing.T) {
	ca := newCA(t, "Test Root CA")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	count := 0
	serveTLSOn(t, ca.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "leader.test"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		count++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}), l)
	requestsSeen := func() int { mu.Lock(); defer mu.Unlock(); return count }

	electorID := component.MustNewIDWithName("k8s_leader_elector", "test")
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 50 * time.Millisecond
	cfg.K8sLeaderElector = &electorID
	cfg.Targets = []Target{{Endpoint: l.Addr().String(), InsecureSkipVerify: true}}
	sink := new(consumertest.MetricsSink)
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	elector := &leadergatetest.FakeElector{}
	require.NoError(t, rcv.Start(context.Background(), leadergatetest.NewHost(electorID, elector)))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	// Several intervals pass as a follower: nothing is checked or emitted.
	time.Sleep(300 * time.Millisecond)
	assert.Empty(t, sink.AllMetrics())
	assert.Zero(t, requestsSeen())

	elector.BecomeLeader()
	require.Eventually(t, func() bool {
		all := sink.AllMetrics()
		return len(all) > 0 && all[len(all)-1].MetricCount() > 0 && requestsSeen() > 0
	}, 30*time.Second, 10*time.Millisecond)
}
