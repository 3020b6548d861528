// Package leadergatetest provides a fake leader elector and a host that serves it, for tests.
package leadergatetest

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
)

// FakeElector behaves like contrib's k8s_leader_elector towards receivers: late registrants of a
// leading elector are started synchronously, and "stopped" may be sent without "started".
type FakeElector struct {
	mu      sync.Mutex
	expired bool // LeaseValid reports false
	leading bool
	cancel  context.CancelFunc
	starts  []func(context.Context)
	stops   []func()
}

var _ component.Component = (*FakeElector)(nil)

func (*FakeElector) Start(context.Context, component.Host) error { return nil }
func (*FakeElector) Shutdown(context.Context) error              { return nil }

// SetCallBackFuncs registers a receiver, starting it at once if already leading.
func (f *FakeElector) SetCallBackFuncs(onStart func(context.Context), onStop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, onStart)
	f.stops = append(f.stops, onStop)
	if f.leading {
		onStart(context.Background())
	}
}

// BecomeLeader calls every start callback, as client-go's OnStartedLeading does.
func (f *FakeElector) BecomeLeader() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leading = true
	var ctx context.Context
	ctx, f.cancel = context.WithCancel(context.Background())
	for _, start := range f.starts {
		start(ctx)
	}
}

// LoseLeadership calls every stop callback, whether or not this elector was leading.
func (f *FakeElector) LoseLeadership() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leading = false
	if f.cancel != nil {
		f.cancel()
	}
	for _, stop := range f.stops {
		stop()
	}
}

// ExpireLease makes LeaseValid report false while the elector still says it leads: a replica
// frozen past its lease.
func (f *FakeElector) ExpireLease() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expired = true
}

// LeaseValid is the leadergate.LeaseChecker of a leader whose lease is unexpired until ExpireLease.
func (f *FakeElector) LeaseValid() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leading && !f.expired
}

// Registrations counts receivers that registered callbacks.
func (f *FakeElector) Registrations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts)
}

type host struct {
	component.Host
	extensions map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.extensions }

// NewHost returns a host whose only extension is ext under id.
func NewHost(id component.ID, ext component.Component) component.Host {
	return host{Host: componenttest.NewNopHost(), extensions: map[component.ID]component.Component{id: ext}}
}
