package statereceiver

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/labring/otelcol-sealos/internal/gatestatus"
	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
)

// reportingHost is a host that records the component status events reported to it, as the
// collector's host forwards them to status watchers.
type reportingHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *reportingHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

// summary is "OK" or the error text of each reported event, in order.
func (h *reportingHost) summary() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.events))
	for _, ev := range h.events {
		if ev.Err() != nil {
			out = append(out, ev.Status().String()+": "+ev.Err().Error())
			continue
		}
		out = append(out, ev.Status().String())
	}
	return out
}

func TestCyclesReportStatusChangesOnly(t *testing.T) {
	src := newTestSource()
	// Cycles 1-2 succeed, 3-5 fail with the same error, 6 with another, then success again.
	src.collect = collectFunc(func(n int) (pmetric.Metrics, error) {
		switch {
		case n >= 3 && n <= 5:
			return pmetric.NewMetrics(), errors.New("database down")
		case n == 6:
			return pmetric.NewMetrics(), errors.New("database refused the password")
		}
		return sourceMetrics(sourceMetric, n), nil
	})
	rcv, _, _ := newReceiver(t, src, nil)
	host := &reportingHost{Host: leadergatetest.NewHost(electorID, &leadergatetest.FakeElector{})}
	start(t, rcv, host)

	want := []string{"StatusOK", "StatusRecoverableError: last cycle: database down", "StatusRecoverableError: last cycle: database refused the password", "StatusOK"}
	require.Eventually(t, func() bool { return len(host.summary()) >= len(want) && src.collects.Load() > 8 }, waitFor, tick)
	assert.Equal(t, want, host.summary(), "one event per change of outcome, with the error text")
}

func TestGatedReceiverRegistersItsGate(t *testing.T) {
	src := newTestSource()
	rcv, _, set := newReceiver(t, src, &electorID)
	elector := &leadergatetest.FakeElector{}
	shutdown := start(t, rcv, leadergatetest.NewHost(electorID, elector))

	gate, ok := gatestatus.Lookup(set.ID)
	require.True(t, ok, "a gated receiver is visible to the status extension")
	assert.Equal(t, electorID, gate.Elector)
	assert.False(t, gate.Leading(), "standby until the elector says it leads")
	elector.BecomeLeader()
	assert.True(t, gate.Leading())

	require.NoError(t, shutdown())
	_, ok = gatestatus.Lookup(set.ID)
	assert.False(t, ok, "Shutdown removes the registration")
}

func TestUngatedReceiverIsNotRegistered(t *testing.T) {
	rcv, _, set := newReceiver(t, newTestSource(), nil)
	start(t, rcv, &reportingHost{Host: leadergatetest.NewHost(electorID, &leadergatetest.FakeElector{})})
	_, ok := gatestatus.Lookup(set.ID)
	assert.False(t, ok)
}
