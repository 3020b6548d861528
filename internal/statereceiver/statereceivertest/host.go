package statereceivertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// StatusHost is a host that records the component status a receiver reports.
type StatusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

// Report records ev (componentstatus.Reporter).
func (h *StatusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

// Last is the latest status reported, or nil.
func (h *StatusHost) Last() *componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return nil
	}
	return h.events[len(h.events)-1]
}

// WaitBatch waits up to timeout for a batch the sink received, at index from or later, that
// satisfies ok, and returns it with its index.
func WaitBatch(t testing.TB, sink *consumertest.MetricsSink, from int, timeout time.Duration, ok func(pmetric.Metrics) bool) (pmetric.Metrics, int) {
	t.Helper()
	var (
		found pmetric.Metrics
		index int
	)
	require.Eventually(t, func() bool {
		all := sink.AllMetrics()
		for i := from; i < len(all); i++ {
			if ok(all[i]) {
				found, index = all[i], i
				return true
			}
		}
		return false
	}, timeout, 10*time.Millisecond, "no matching batch reached the sink")
	return found, index
}

// StartReceiver creates factory's metrics receiver (id: the factory's type) with cfg, starts it on
// a StatusHost around base, and shuts it down when the test ends.
func StartReceiver(t testing.TB, factory receiver.Factory, cfg component.Config, base component.Host) (*consumertest.MetricsSink, *StatusHost) {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	set := receivertest.NewNopSettings(factory.Type())
	set.ID = component.NewID(factory.Type())
	r, err := factory.CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	host := &StatusHost{Host: base}
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return sink, host
}
