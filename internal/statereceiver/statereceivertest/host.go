package statereceivertest

import (
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
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
