// Package leadergate runs a receiver's cluster-wide work only while this replica holds leadership,
// as granted by any extension with the k8s_leader_elector callback interface.
package leadergate

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
)

// Elector is the one method shared by contrib's k8s_leader_elector and our leader_election
// extension. The callback types are plain funcs (contrib's are aliases), so both satisfy it.
type Elector interface {
	SetCallBackFuncs(onStartedLeading func(context.Context), onStoppedLeading func())
}

// Gate starts work when leadership is gained and cancels it when leadership is lost.
//
// The elector's callbacks only record the new state and wake the gate's own goroutine, so they
// never block the elector, are idempotent, and are harmless after Shutdown (the elector stops
// after receivers do, and may call "stopped" without ever calling "started").
type Gate struct {
	work    func(ctx context.Context)
	leading atomic.Bool
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// New returns a gate that runs work (which must return once its ctx is done) while leading.
// work may be nil for receivers that only need Leading().
func New(work func(ctx context.Context)) *Gate {
	if work == nil {
		work = func(context.Context) {}
	}
	return &Gate{work: work, wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

// Find returns the elector extension named by electorID, or nil when electorID is nil.
func Find(host component.Host, electorID *component.ID) (Elector, error) {
	if electorID == nil {
		return nil, nil
	}
	ext, ok := host.GetExtensions()[*electorID]
	if !ok {
		return nil, fmt.Errorf("k8s_leader_elector: extension %q is not configured; add it under extensions and service.extensions", electorID)
	}
	elector, ok := ext.(Elector)
	if !ok {
		return nil, fmt.Errorf("k8s_leader_elector: extension %q is not a leader elector (it has no SetCallBackFuncs)", electorID)
	}
	return elector, nil
}

// Start registers with the elector named by electorID, or leads at once when electorID is nil.
func (g *Gate) Start(host component.Host, electorID *component.ID) error {
	elector, err := Find(host, electorID)
	if err != nil {
		return err
	}
	g.Run(elector)
	return nil
}

// Run registers with elector, or leads at once when elector is nil.
func (g *Gate) Run(elector Elector) {
	g.done = make(chan struct{})
	go g.loop()
	if elector == nil {
		g.set(true)
		return
	}
	elector.SetCallBackFuncs(func(context.Context) { g.set(true) }, func() { g.set(false) })
}

// Leading reports whether this replica should emit the receiver's metrics now; never after Shutdown,
// whatever a late callback says.
func (g *Gate) Leading() bool {
	select {
	case <-g.quit:
		return false
	default:
		return g.leading.Load()
	}
}

func (g *Gate) set(leading bool) {
	g.leading.Store(leading)
	select {
	case g.wake <- struct{}{}:
	default: // a wake-up is already pending; the loop reads the latest state
	}
}

func (g *Gate) loop() {
	defer close(g.done)
	var stop func() // stops the running work; nil while not leading
	for {
		select {
		case <-g.quit:
			if stop != nil {
				stop()
			}
			return
		case <-g.wake:
		}
		switch leading := g.leading.Load(); {
		case leading && stop == nil:
			stop = g.runWork()
		case !leading && stop != nil:
			stop()
			stop = nil
		}
	}
}

// runWork starts work in its own goroutine and returns a func that cancels it and waits.
func (g *Gate) runWork() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		g.work(ctx)
	}()
	return func() {
		cancel()
		<-stopped
	}
}

// Shutdown stops the work and the gate's goroutine; later callbacks are no-ops. Safe without Start.
func (g *Gate) Shutdown() {
	g.once.Do(func() {
		g.leading.Store(false)
		close(g.quit)
		if g.done != nil {
			<-g.done
		}
	})
}
