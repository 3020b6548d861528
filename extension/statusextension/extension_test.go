package statusextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/labring/otelcol-sealos/extension/statusextension/internal/metadata"
	"github.com/labring/otelcol-sealos/internal/gatestatus"
)

var (
	electorID = component.MustNewIDWithName("leader_election", "cluster")
	metrics   = pipeline.NewID(pipeline.SignalMetrics)
)

// fakeLease is an elector as the leader_election extension exposes it.
type fakeLease struct {
	component.StartFunc
	component.ShutdownFunc
	holder  string
	leading bool
}

func (*fakeLease) SetCallBackFuncs(func(context.Context), func()) {}
func (*fakeLease) Lease() string                                  { return "ns/otelcol-sealos-cluster" }
func (*fakeLease) Identity() string                               { return "pod-a" }
func (f *fakeLease) Holder() string                               { return f.holder }
func (f *fakeLease) Leading() bool                                { return f.leading }

type host struct {
	component.Host
	extensions map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.extensions }

// startStatus starts the extension on a free loopback port and returns its base URL.
func startStatus(t *testing.T, extensions map[component.ID]component.Component) (*status, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = addr
	s := newStatus(cfg, extensiontest.NewNopSettings(metadata.Type))
	require.NoError(t, s.Start(context.Background(), host{Host: componenttest.NewNopHost(), extensions: extensions}))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s, "http://" + addr
}

func get(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // test against loopback
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
	return resp.StatusCode
}

func event(s *status, id component.ID, kind component.Kind, ev *componentstatus.Event) {
	s.ComponentStatusChanged(componentstatus.NewInstanceID(id, kind, metrics), ev)
}

func TestReceiverStatesAndProbes(t *testing.T) {
	lease := &fakeLease{holder: "pod-b"}
	s, url := startStatus(t, map[component.ID]component.Component{electorID: lease})

	node := component.MustNewID("node")
	database := component.MustNewID("database")
	prom := component.MustNewID("prometheus")
	var leading bool
	unregister := gatestatus.Register(node, gatestatus.Gate{Elector: electorID, Leading: func() bool { return leading }})
	defer unregister()

	for _, id := range []component.ID{node, database} {
		event(s, id, component.KindReceiver, componentstatus.NewEvent(componentstatus.StatusStarting))
	}
	var r Report
	require.Equal(t, http.StatusOK, get(t, url+"/status", &r))
	assert.Equal(t, stateStarting, r.Receivers["node"].State)
	var p probe
	assert.Equal(t, http.StatusServiceUnavailable, get(t, url+"/readyz", &p), "not ready before the pipelines run")
	assert.Equal(t, http.StatusOK, get(t, url+"/livez", &p), "starting is alive")

	for _, id := range []component.ID{node, database} {
		event(s, id, component.KindReceiver, componentstatus.NewEvent(componentstatus.StatusOK))
	}
	event(s, prom, component.KindExporter, componentstatus.NewEvent(componentstatus.StatusOK))
	require.NoError(t, s.Ready())
	// The database receiver's outside system fails: its state says so, the probes do not.
	event(s, database, component.KindReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")))

	require.Equal(t, http.StatusOK, get(t, url+"/status", &r))
	assert.True(t, r.Ready)
	assert.True(t, r.Live)
	assert.Equal(t, stateStandby, r.Receivers["node"].State, "gated, another replica leads")
	assert.Equal(t, "leader_election/cluster", r.Receivers["node"].LeaderElector)
	assert.False(t, *r.Receivers["node"].Leading)
	assert.Equal(t, stateFailed, r.Receivers["database"].State)
	assert.Equal(t, "dial tcp 10.0.0.9:5432: connect: connection refused", r.Receivers["database"].LastError)
	assert.Equal(t, "StatusRecoverableError", r.Receivers["database"].Status)
	assert.Equal(t, stateRunning, r.Exporters["prometheus"].State)
	assert.Equal(t, LeaseReport{Lease: "ns/otelcol-sealos-cluster", Identity: "pod-a", Holder: "pod-b"}, r.Leases["leader_election/cluster"])
	assert.Equal(t, http.StatusOK, get(t, url+"/readyz", &p), "an outside failure keeps the pod ready: its metrics say what failed")
	assert.Equal(t, http.StatusOK, get(t, url+"/livez", &p), "an outside failure must not restart the pod")

	// This replica takes the lease; the database recovers but its last error stays visible.
	leading, lease.leading, lease.holder = true, true, "pod-a"
	event(s, database, component.KindReceiver, componentstatus.NewEvent(componentstatus.StatusOK))
	require.Equal(t, http.StatusOK, get(t, url+"/status", &r))
	assert.Equal(t, stateRunning, r.Receivers["node"].State)
	assert.True(t, *r.Receivers["node"].Leading)
	assert.Equal(t, stateRunning, r.Receivers["database"].State)
	assert.Contains(t, r.Receivers["database"].LastError, "connection refused")
	assert.True(t, r.Leases["leader_election/cluster"].Leading)

	// A permanent error is ours: not ready, still alive. A fatal one: neither.
	event(s, prom, component.KindExporter, componentstatus.NewPermanentErrorEvent(errors.New("listen tcp :9090: address already in use")))
	assert.Equal(t, http.StatusServiceUnavailable, get(t, url+"/readyz", &p))
	assert.Contains(t, p.Problems, "prometheus: permanent error: listen tcp :9090: address already in use")
	assert.Equal(t, http.StatusOK, get(t, url+"/livez", &p))
	event(s, prom, component.KindExporter, componentstatus.NewFatalErrorEvent(errors.New("exporter crashed")))
	assert.Equal(t, http.StatusServiceUnavailable, get(t, url+"/livez", &p))

	require.NoError(t, s.NotReady())
	assert.Equal(t, http.StatusServiceUnavailable, get(t, url+"/readyz", &p), "pipelines stopping")
}

func TestStateOf(t *testing.T) {
	tests := []struct {
		status         componentstatus.Status
		gated, leading bool
		want           string
	}{
		{componentstatus.StatusNone, false, false, stateStarting},
		{componentstatus.StatusStarting, true, false, stateStarting},
		{componentstatus.StatusOK, false, false, stateRunning},
		{componentstatus.StatusOK, true, true, stateRunning},
		{componentstatus.StatusOK, true, false, stateStandby},
		{componentstatus.StatusRecoverableError, true, false, stateStandby},
		{componentstatus.StatusRecoverableError, true, true, stateFailed},
		{componentstatus.StatusRecoverableError, false, false, stateFailed},
		{componentstatus.StatusPermanentError, true, false, stateFailed},
		{componentstatus.StatusFatalError, false, false, stateFailed},
		{componentstatus.StatusStopping, true, false, stateStopping},
		{componentstatus.StatusStopped, false, false, stateStopped},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s gated=%v leading=%v", tt.status, tt.gated, tt.leading), func(t *testing.T) {
			assert.Equal(t, tt.want, stateOf(tt.status, tt.gated, tt.leading))
		})
	}
}

func TestPortInUseFailsStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = l.Addr().String()
	s := newStatus(cfg, extensiontest.NewNopSettings(metadata.Type))
	require.Error(t, s.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, s.Shutdown(context.Background()))
}

func TestValidate(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "localhost:13134", cfg.NetAddr.Endpoint)
	cfg.NetAddr.Endpoint = ""
	assert.ErrorContains(t, cfg.Validate(), "endpoint: must not be empty")
}
