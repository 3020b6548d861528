package leadergate

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/goleak"

	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	waitFor = 5 * time.Second
	tick    = time.Millisecond
	// quiet is how long a negative check watches for something that must not happen.
	quiet = 50 * time.Millisecond
)

var electorID = component.MustNewIDWithName("k8s_leader_elector", "gate")

// probe is a work func that records how often it started and returned, and how many copies run at
// once. A slow probe's stopped work blocks until finish is called: work slow to stop.
type probe struct {
	starts      atomic.Int32
	stops       atomic.Int32 // ctx done observed
	returns     atomic.Int32 // work returned
	running     atomic.Int32
	maxRunning  atomic.Int32
	release     chan struct{}
	releaseOnce sync.Once
	ctxs        chan context.Context
}

func newProbe() *probe {
	p := &probe{release: make(chan struct{}), ctxs: make(chan context.Context, 16)}
	p.finish() // fast to stop unless a test asks otherwise
	return p
}

// newSlowProbe returns a probe whose work, once its ctx is done, returns only after finish.
func newSlowProbe() *probe {
	return &probe{release: make(chan struct{}), ctxs: make(chan context.Context, 16)}
}

func (p *probe) finish() { p.releaseOnce.Do(func() { close(p.release) }) }

func (p *probe) work(ctx context.Context) {
	p.starts.Add(1)
	n := p.running.Add(1)
	for {
		m := p.maxRunning.Load()
		if n <= m || p.maxRunning.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case p.ctxs <- ctx:
	default:
	}
	<-ctx.Done()
	p.stops.Add(1)
	<-p.release
	p.running.Add(-1)
	p.returns.Add(1)
}

func (p *probe) waitStarts(t *testing.T, n int32) {
	t.Helper()
	require.Eventually(t, func() bool { return p.starts.Load() == n }, waitFor, tick, "work should have started %d time(s), started %d", n, p.starts.Load())
}

func (p *probe) waitReturns(t *testing.T, n int32) {
	t.Helper()
	require.Eventually(t, func() bool { return p.returns.Load() == n }, waitFor, tick, "work should have returned %d time(s), returned %d", n, p.returns.Load())
}

// notAnElector is an extension without SetCallBackFuncs.
type notAnElector struct {
	component.StartFunc
	component.ShutdownFunc
}

// recordingElector hands the test the callbacks the gate registered, to call them directly.
type recordingElector struct {
	component.StartFunc
	component.ShutdownFunc
	mu      sync.Mutex
	onStart func(context.Context)
	onStop  func()
	calls   int
}

func (r *recordingElector) SetCallBackFuncs(onStart func(context.Context), onStop func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onStart, r.onStop = onStart, onStop
	r.calls++
}

func (r *recordingElector) callbacks(t *testing.T) (func(context.Context), func()) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Equal(t, 1, r.calls, "the gate should register its callbacks exactly once")
	require.NotNil(t, r.onStart)
	require.NotNil(t, r.onStop)
	return r.onStart, r.onStop
}

// returnsPromptly fails the test unless fn returns within limit. It is a liveness check (the
// callback must not wait for work), not a performance goal: the limit is generous.
func returnsPromptly(t *testing.T, name string, limit time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s blocked for more than %v", name, limit)
	}
}

func startWithFake(t *testing.T, p *probe) (*Gate, *leadergatetest.FakeElector) {
	t.Helper()
	elector := &leadergatetest.FakeElector{}
	g := New(p.work)
	require.NoError(t, g.Start(leadergatetest.NewHost(electorID, elector), &electorID))
	t.Cleanup(g.Shutdown)
	require.Equal(t, 1, elector.Registrations())
	return g, elector
}

func TestNoElectorLeadsAtOnce(t *testing.T) {
	p := newProbe()
	g := New(p.work)
	require.NoError(t, g.Start(componenttest.NewNopHost(), nil))
	assert.True(t, g.Leading(), "without an elector the gate leads as soon as it starts")
	p.waitStarts(t, 1)

	ctx := <-p.ctxs
	require.NoError(t, ctx.Err(), "work's ctx must stay live while leading")

	g.Shutdown()
	assert.False(t, g.Leading())
	assert.ErrorIs(t, ctx.Err(), context.Canceled, "Shutdown cancels work's ctx")
	assert.EqualValues(t, 1, p.returns.Load(), "Shutdown returns only after work returned")
	assert.EqualValues(t, 1, p.starts.Load())
}

func TestNilWorkStillTracksLeadership(t *testing.T) {
	elector := &leadergatetest.FakeElector{}
	g := New(nil)
	require.NoError(t, g.Start(leadergatetest.NewHost(electorID, elector), &electorID))
	defer g.Shutdown()

	assert.False(t, g.Leading())
	elector.BecomeLeader()
	assert.True(t, g.Leading())
	elector.LoseLeadership()
	assert.False(t, g.Leading())
}

func TestFollowerUntilBecomeLeader(t *testing.T) {
	p := newProbe()
	g, elector := startWithFake(t, p)

	assert.False(t, g.Leading(), "with an elector the gate must wait for leadership")
	require.Never(t, func() bool { return p.starts.Load() > 0 }, quiet, tick, "work must not run before leadership")

	elector.BecomeLeader()
	assert.True(t, g.Leading(), "Leading must flip as soon as the callback returns")
	p.waitStarts(t, 1)
	ctx := <-p.ctxs
	assert.NoError(t, ctx.Err())
}

func TestLoseAndRegainLeadership(t *testing.T) {
	p := newProbe()
	g, elector := startWithFake(t, p)

	const rounds = 3
	for i := int32(1); i <= rounds; i++ {
		elector.BecomeLeader()
		assert.True(t, g.Leading())
		p.waitStarts(t, i)
		ctx := <-p.ctxs
		require.NoError(t, ctx.Err(), "round %d: ctx must be live while leading", i)

		elector.LoseLeadership()
		assert.False(t, g.Leading())
		require.Eventually(t, func() bool { return ctx.Err() != nil }, waitFor, tick, "round %d: losing leadership must cancel work's ctx", i)
		p.waitReturns(t, i)
		assert.EqualValues(t, i, p.stops.Load())
	}
	assert.EqualValues(t, rounds, p.starts.Load(), "work restarts once per regain")
	assert.EqualValues(t, 1, p.maxRunning.Load(), "at most one copy of work at a time")
}

func TestLateRegistrationWithLeadingElector(t *testing.T) {
	// contrib's elector starts a receiver that registers while it already leads, synchronously.
	p := newProbe()
	elector := &leadergatetest.FakeElector{}
	elector.BecomeLeader()

	g := New(p.work)
	require.NoError(t, g.Start(leadergatetest.NewHost(electorID, elector), &electorID))
	defer g.Shutdown()
	assert.True(t, g.Leading())
	p.waitStarts(t, 1)
}

func TestStopBeforeStartIsHarmless(t *testing.T) {
	p := newProbe()
	g, elector := startWithFake(t, p)

	elector.LoseLeadership() // "stopped" without "started", as contrib's elector may send
	elector.LoseLeadership()
	assert.False(t, g.Leading())
	require.Never(t, func() bool { return p.starts.Load() > 0 || p.stops.Load() > 0 }, quiet, tick)

	elector.BecomeLeader()
	p.waitStarts(t, 1)
	assert.Zero(t, p.stops.Load())
}

func TestDuplicateCallbacksStartWorkOnce(t *testing.T) {
	p := newProbe()
	g, elector := startWithFake(t, p)

	elector.BecomeLeader()
	elector.BecomeLeader()
	p.waitStarts(t, 1)
	first := <-p.ctxs
	require.Never(t, func() bool { return p.starts.Load() > 1 }, quiet, tick, "a repeated start callback must not start work again")
	assert.NoError(t, first.Err(), "a repeated start callback must not restart work either")
	assert.True(t, g.Leading())

	elector.LoseLeadership()
	elector.LoseLeadership()
	p.waitReturns(t, 1)
	require.Never(t, func() bool { return p.starts.Load() > 1 }, quiet, tick)
	assert.EqualValues(t, 1, p.stops.Load())
	assert.EqualValues(t, 1, p.maxRunning.Load())
}

func TestConcurrentDuplicateCallbacks(t *testing.T) {
	p := newProbe()
	rec := &recordingElector{}
	g := New(p.work)
	require.NoError(t, g.Start(leadergatetest.NewHost(electorID, rec), &electorID))
	defer g.Shutdown()
	onStart, onStop := rec.callbacks(t)

	fire := func(fn func()) {
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(fn)
		}
		wg.Wait()
	}
	fire(func() { onStart(context.Background()) })
	assert.True(t, g.Leading())
	p.waitStarts(t, 1)
	require.Never(t, func() bool { return p.starts.Load() > 1 }, quiet, tick)

	fire(onStop)
	assert.False(t, g.Leading())
	p.waitReturns(t, 1)

	fire(func() { onStart(context.Background()) })
	p.waitStarts(t, 2)
	require.Never(t, func() bool { return p.starts.Load() > 2 }, quiet, tick)
	assert.EqualValues(t, 1, p.maxRunning.Load())
}

func TestCallbacksNeverBlockOnSlowWork(t *testing.T) {
	p := newSlowProbe() // once its ctx is done, work only returns after p.finish
	g, elector := startWithFake(t, p)
	t.Cleanup(p.finish)           // cleanups run last-in first-out: release work before the gate's Shutdown
	const limit = 2 * time.Second // work takes "forever" (until released), so any limit proves it

	returnsPromptly(t, "BecomeLeader", limit, elector.BecomeLeader)
	p.waitStarts(t, 1)

	returnsPromptly(t, "LoseLeadership", limit, elector.LoseLeadership)
	assert.False(t, g.Leading())
	require.Eventually(t, func() bool { return p.stops.Load() == 1 }, waitFor, tick, "work's ctx should be cancelled")
	assert.Zero(t, p.returns.Load(), "the callback returned while work was still stopping")

	// Regaining leadership while the old work is still stopping must not block either, and must
	// not overlap the old work with a new copy.
	returnsPromptly(t, "BecomeLeader while work is stopping", limit, elector.BecomeLeader)
	returnsPromptly(t, "LoseLeadership while work is stopping", limit, elector.LoseLeadership)
	returnsPromptly(t, "BecomeLeader while work is stopping", limit, elector.BecomeLeader)
	assert.True(t, g.Leading())
	require.Never(t, func() bool { return p.starts.Load() > 1 }, quiet, tick, "new work must wait for the old one to return")

	p.finish()
	p.waitReturns(t, 1)
	p.waitStarts(t, 2)
	assert.EqualValues(t, 1, p.maxRunning.Load(), "old and new work must never overlap")
}

func TestCallbackStopReturnsImmediatelyWhileWorkDrains(t *testing.T) {
	// Work keeps draining after its ctx is done until the test releases it: the stop callback must
	// return while it still drains (an order, not a deadline: the drain has no end of its own).
	var returned atomic.Bool
	started, release := make(chan struct{}), make(chan struct{})
	g := New(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		<-release
		returned.Store(true)
	})
	rec := &recordingElector{}
	require.NoError(t, g.Start(leadergatetest.NewHost(electorID, rec), &electorID))
	onStart, onStop := rec.callbacks(t)

	onStart(context.Background())
	select {
	case <-started:
	case <-time.After(waitFor):
		t.Fatal("work did not start")
	}

	returnsPromptly(t, "stop callback", waitFor, onStop)
	assert.False(t, returned.Load(), "stop callback waited for work")

	close(release)
	g.Shutdown() // waits for work
	assert.True(t, returned.Load(), "Shutdown must wait for work to return")
}

func TestCallbacksAfterShutdown(t *testing.T) {
	p := newProbe()
	rec := &recordingElector{}
	g := New(p.work)
	require.NoError(t, g.Start(leadergatetest.NewHost(electorID, rec), &electorID))
	onStart, onStop := rec.callbacks(t)

	onStart(context.Background())
	p.waitStarts(t, 1)
	g.Shutdown()
	assert.EqualValues(t, 1, p.returns.Load(), "Shutdown stops work and waits for it")
	assert.False(t, g.Leading())

	// The elector shuts down after receivers, so it may still call either callback.
	returnsPromptly(t, "stop after Shutdown", time.Second, onStop)
	returnsPromptly(t, "start after Shutdown", time.Second, func() { onStart(context.Background()) })
	returnsPromptly(t, "start after Shutdown", time.Second, func() { onStart(context.Background()) })
	returnsPromptly(t, "stop after Shutdown", time.Second, onStop)
	returnsPromptly(t, "start after Shutdown", time.Second, func() { onStart(context.Background()) })
	// The gate's goroutine is gone, so nothing can start work any more.
	assert.EqualValues(t, 1, p.starts.Load(), "callbacks after Shutdown must not start work")

	g.Shutdown() // idempotent
}

func TestNotLeadingAfterShutdownEvenIfStartedLate(t *testing.T) {
	// Shutdown documents later callbacks as no-ops, so a late "started" must not make Leading()
	// report true on a gate that will never run work again.
	rec := &recordingElector{}
	g := New(nil)
	require.NoError(t, g.Start(leadergatetest.NewHost(electorID, rec), &electorID))
	onStart, _ := rec.callbacks(t)
	g.Shutdown()

	onStart(context.Background())
	assert.False(t, g.Leading(), "callbacks after Shutdown are no-ops: the gate must not report leading")

	// Same for a gate shut down before it ever started.
	g2 := New(nil)
	g2.Shutdown()
	require.NoError(t, g2.Start(componenttest.NewNopHost(), nil))
	assert.False(t, g2.Leading(), "a gate started after Shutdown must not lead")
}

func TestCallbacksAfterShutdownWithFakeElector(t *testing.T) {
	p := newProbe()
	g, elector := startWithFake(t, p)
	elector.BecomeLeader()
	p.waitStarts(t, 1)
	g.Shutdown()

	returnsPromptly(t, "LoseLeadership after Shutdown", time.Second, elector.LoseLeadership)
	returnsPromptly(t, "BecomeLeader after Shutdown", time.Second, elector.BecomeLeader)
	assert.EqualValues(t, 1, p.starts.Load())
	assert.EqualValues(t, 1, p.returns.Load())
}

func TestShutdownWithoutStart(t *testing.T) {
	p := newProbe()
	g := New(p.work)
	returnsPromptly(t, "Shutdown without Start", time.Second, g.Shutdown)
	returnsPromptly(t, "second Shutdown", time.Second, g.Shutdown)
	assert.False(t, g.Leading())
	assert.Zero(t, p.starts.Load())
}

func TestShutdownIsIdempotentAndConcurrentSafe(t *testing.T) {
	p := newProbe()
	g, elector := startWithFake(t, p)
	elector.BecomeLeader()
	p.waitStarts(t, 1)

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(g.Shutdown)
	}
	wg.Wait()
	assert.EqualValues(t, 1, p.returns.Load())
	g.Shutdown()
}

func TestFind(t *testing.T) {
	elector, err := Find(componenttest.NewNopHost(), nil)
	require.NoError(t, err)
	assert.Nil(t, elector, "no elector configured: not gated")

	fake := &leadergatetest.FakeElector{}
	elector, err = Find(leadergatetest.NewHost(electorID, fake), &electorID)
	require.NoError(t, err)
	assert.Same(t, fake, elector)

	_, err = Find(componenttest.NewNopHost(), &electorID)
	assert.ErrorContains(t, err, electorID.String())
	_, err = Find(leadergatetest.NewHost(electorID, notAnElector{}), &electorID)
	assert.ErrorContains(t, err, "not a leader elector")
}

func TestRun(t *testing.T) {
	t.Run("nil elector leads at once", func(t *testing.T) {
		p := newProbe()
		g := New(p.work)
		g.Run(nil)
		defer g.Shutdown()
		assert.True(t, g.Leading())
		p.waitStarts(t, 1)
	})

	t.Run("elector found earlier", func(t *testing.T) {
		p := newProbe()
		fake := &leadergatetest.FakeElector{}
		elector, err := Find(leadergatetest.NewHost(electorID, fake), &electorID)
		require.NoError(t, err)
		g := New(p.work)
		g.Run(elector)
		defer g.Shutdown()
		assert.Equal(t, 1, fake.Registrations())
		assert.False(t, g.Leading())
		fake.BecomeLeader()
		p.waitStarts(t, 1)
	})
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name    string
		host    component.Host
		wantErr []string
	}{
		{
			name:    "missing extension",
			host:    componenttest.NewNopHost(),
			wantErr: []string{electorID.String(), "not configured"},
		},
		{
			name:    "extension under another id",
			host:    leadergatetest.NewHost(component.MustNewIDWithName("k8s_leader_elector", "other"), &leadergatetest.FakeElector{}),
			wantErr: []string{electorID.String(), "not configured"},
		},
		{
			name:    "extension is not an elector",
			host:    leadergatetest.NewHost(electorID, notAnElector{}),
			wantErr: []string{electorID.String(), "not a leader elector"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProbe()
			g := New(p.work)
			err := g.Start(tt.host, &electorID)
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.ErrorContains(t, err, want)
			}
			assert.False(t, g.Leading())
			returnsPromptly(t, "Shutdown after failed Start", time.Second, g.Shutdown)
			assert.Zero(t, p.starts.Load())
		})
	}
}
