package statereceivertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Host records the component status events reported to it, as the collector's host forwards them
// to status watchers.
type Host struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

// NewHost returns a Host without extensions that has seen no event.
func NewHost() *Host { return &Host{Host: componenttest.NewNopHost()} }

// Report records ev.
func (h *Host) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

// Errors is the error text of every event with an error so far, in order.
func (h *Host) Errors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if ev.Err() != nil {
			out = append(out, ev.Err().Error())
		}
	}
	return out
}

// Last is the newest event's status, with ": " and its error text for an error; "" before any.
func (h *Host) Last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return ""
	}
	ev := h.events[len(h.events)-1]
	if ev.Err() != nil {
		return ev.Status().String() + ": " + ev.Err().Error()
	}
	return ev.Status().String()
}

// LastEvent is the newest event, or nil.
func (h *Host) LastEvent() *componentstatus.Event {
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
// a Host around base, and shuts it down when the test ends.
func StartReceiver(t testing.TB, factory receiver.Factory, cfg component.Config, base component.Host) (*consumertest.MetricsSink, *Host) {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	set := receivertest.NewNopSettings(factory.Type())
	set.ID = component.NewID(factory.Type())
	r, err := factory.CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	host := &Host{Host: base}
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return sink, host
}
