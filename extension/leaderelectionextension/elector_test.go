package leaderelectionextension

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/labring/otelcol-sealos/extension/leaderelectionextension/internal/metadata"
	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/leadergate"
	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
)

// counter is a receiver's pair of callbacks.
type counter struct {
	starts, stops atomic.Int32
	lastCtx       atomic.Pointer[context.Context]
}

func (c *counter) register(e leadergate.Elector) {
	e.SetCallBackFuncs(func(ctx context.Context) { c.lastCtx.Store(&ctx); c.starts.Add(1) }, func() { c.stops.Add(1) })
}

func testElector(t *testing.T, name, identity string) *elector {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	set := extensiontest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, name)
	return newElector(cfg, set, identity)
}

func TestIsAnElectorForReceivers(t *testing.T) {
	e := testElector(t, "cluster", "me")
	id := component.NewIDWithName(metadata.Type, "cluster")
	found, err := leadergate.Find(leadergatetest.NewHost(id, e), &id)
	require.NoError(t, err, "receivers must accept leader_election as their k8s_leader_elector")
	assert.Same(t, e, found)
}

func TestCallbacksFollowLeadershipTransitions(t *testing.T) {
	e := testElector(t, "", "me")
	before := &counter{}
	before.register(e) // registered before the extension leads

	e.stoppedLeading() // client-go calls this after a campaign that never won
	assert.Zero(t, before.stops.Load(), "no stop without a start")

	term, endTerm := context.WithCancel(context.Background())
	e.startedLeading(term)
	assert.True(t, e.Leading())
	assert.Equal(t, "me", e.Holder())
	assert.EqualValues(t, 1, before.starts.Load())
	e.startedLeading(term)
	assert.EqualValues(t, 1, before.starts.Load(), "one start per term")

	after := &counter{}
	after.register(e) // registered while leading: started at once, with the term's ctx
	assert.EqualValues(t, 1, after.starts.Load())
	assert.Equal(t, term, *after.lastCtx.Load())

	endTerm()
	e.stoppedLeading()
	assert.False(t, e.Leading())
	assert.EqualValues(t, 1, before.stops.Load())
	assert.EqualValues(t, 1, after.stops.Load())
	e.stoppedLeading()
	assert.EqualValues(t, 1, before.stops.Load(), "one stop per term")

	// client-go starts OnStartedLeading in a goroutine: it can arrive after its term ended.
	e.startedLeading(term)
	assert.False(t, e.Leading(), "a late start for a finished term is ignored")
	assert.EqualValues(t, 1, before.starts.Load())
}

func TestShutdownStopsReceiversAndIgnoresLaterCalls(t *testing.T) {
	e := testElector(t, "", "me")
	c := &counter{}
	c.register(e)
	e.startedLeading(context.Background())
	require.NoError(t, e.Shutdown(context.Background()), "Shutdown without Start")
	assert.EqualValues(t, 1, c.stops.Load(), "receivers stop before the lease is released")
	assert.False(t, e.Leading())

	e.startedLeading(context.Background())
	late := &counter{}
	late.register(e)
	assert.False(t, e.Leading())
	assert.Zero(t, late.starts.Load())
	assert.EqualValues(t, 1, c.starts.Load())
	require.NoError(t, e.Shutdown(context.Background()), "idempotent")
}

func TestStartErrors(t *testing.T) {
	t.Run("unreadable kubeconfig", func(t *testing.T) {
		e := testElector(t, "", "me")
		e.cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: "/nonexistent/kubeconfig"}
		err := e.Start(context.Background(), componenttest.NewNopHost())
		require.ErrorContains(t, err, "/nonexistent/kubeconfig")
		require.NoError(t, e.Shutdown(context.Background()))
		// The failed Start gave its lease claim back.
		unclaim, err := claimLease(e.Lease(), "me", e.id)
		require.NoError(t, err)
		unclaim()
	})
	t.Run("same lease twice in one process", func(t *testing.T) {
		unclaim, err := claimLease("default/otelcol-sealos", "me", component.MustNewID("leader_election"))
		require.NoError(t, err)
		defer unclaim()
		e := testElector(t, "other", "me")
		e.cfg.LeaseName = "otelcol-sealos"
		e.cfg.LeaseNamespace = "default"
		err = e.Start(context.Background(), componenttest.NewNopHost())
		require.ErrorContains(t, err, "lease_name: lease default/otelcol-sealos is already used by leader_election")
	})
}

func TestLeaseNameDefaultsToTheExtensionName(t *testing.T) {
	e := testElector(t, "domain", "me")
	e.cfg.LeaseNamespace = "ns"
	assert.Equal(t, "ns/otelcol-sealos-domain", e.Lease())
	e.cfg.LeaseName = "explicit"
	assert.Equal(t, "ns/explicit", e.Lease())
	assert.Equal(t, "me", e.Identity())
}
