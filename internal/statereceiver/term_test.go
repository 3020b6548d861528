package statereceiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
)

func TestReadyCollectsAtOnceNotAtTheNextTick(t *testing.T) {
	ready := make(chan struct{})
	src := newTestSource()
	src.lead = func(ctx context.Context, term Term) {
		select {
		case <-ready: // the informers' first list is in
			term.Ready()
		case <-ctx.Done():
		}
	}
	rcv, sink, _ := newReceiverWith(t, src, &Config{CollectionInterval: time.Hour})
	start(t, rcv, componenttest.NewNopHost())

	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, src.collects.Load(), "no cycle before the state is known (and the first tick is an hour away)")
	close(ready)
	md, _ := waitBatch(t, sink, 0, hasSelfMetrics)
	assert.Len(t, points(md, sourceMetric), 1)
	assert.EqualValues(t, 1, src.collects.Load())
}

func TestInitialDelayHoldsTheFirstCycle(t *testing.T) {
	src := newTestSource()
	rcv, sink, _ := newReceiverWith(t, src, &Config{CollectionInterval: time.Hour, InitialDelay: 300 * time.Millisecond})
	began := time.Now()
	start(t, rcv, componenttest.NewNopHost())
	waitBatch(t, sink, 0, hasSelfMetrics)
	assert.GreaterOrEqual(t, time.Since(began), 300*time.Millisecond, "Ready came at once, the cycle still waited for initial_delay")
}

// blockingSource's cycle n (from block on) waits for its context and reports that it was entered.
func blockingSource(block int) (*testSource, chan struct{}) {
	entered := make(chan struct{}, 1)
	src := newTestSource()
	src.collect = func(ctx context.Context, n int) (pmetric.Metrics, error) {
		if n < block {
			return sourceMetrics(sourceMetric, n), nil
		}
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		// What a cycle interrupted halfway would have: it must never reach the pipeline.
		return sourceMetrics(partialMetric, n), ctx.Err()
	}
	return src, entered
}

func TestLeaseLossMarksAtOnceAndDropsTheCycleInFlight(t *testing.T) {
	elector := &leadergatetest.FakeElector{}
	src, entered := blockingSource(2)
	id := electorID
	rcv, sink, _ := newReceiver(t, src, &id)
	start(t, rcv, leadergatetest.NewHost(electorID, elector))
	elector.BecomeLeader()
	first, _ := waitBatch(t, sink, 0, hasSelfMetrics)
	<-entered // cycle 2 is in flight and hangs until its context ends

	elector.LoseLeadership()
	stale, _ := waitBatch(t, sink, 1, func(md pmetric.Metrics) bool { return countMarkers(md) > 0 })
	assert.Equal(t, first.DataPointCount(), countMarkers(stale), "every series of the term is marked, self-metrics included")
	assert.Len(t, markers(stale, sourceMetric), 1)
	require.Eventually(t, func() bool { return src.leadDone.Load() == 1 }, waitFor, tick)
	for _, md := range sink.AllMetrics() {
		assert.Empty(t, points(md, partialMetric), "a cycle in flight when the lease moved never emits")
	}
	assert.Len(t, sink.AllMetrics(), 2, "the first cycle and the markers, nothing else")
}

func TestShutdownCancelsTheRunningCycle(t *testing.T) {
	src, entered := blockingSource(1)
	rcv, sink, _ := newReceiverWith(t, src, &Config{CollectionInterval: time.Hour})
	shutdown := start(t, rcv, componenttest.NewNopHost())
	<-entered

	done := make(chan error, 1)
	go func() { done <- shutdown() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("Shutdown waited for the cycle instead of cancelling it")
	}
	assert.Empty(t, sink.AllMetrics(), "the cancelled cycle emits nothing, and shutdown marks nothing stale")
}

func TestTimeoutBoundsACycle(t *testing.T) {
	src, _ := blockingSource(1)
	rcv, sink, _ := newReceiverWith(t, src, &Config{CollectionInterval: time.Hour, Timeout: 50 * time.Millisecond})
	start(t, rcv, componenttest.NewNopHost())
	md, _ := waitBatch(t, sink, 0, hasSelfMetrics)
	assert.InDelta(t, 0.0, onePoint(t, md, metricSuccess).value, 0, "a cycle cut by its timeout fails")
	assert.Len(t, points(md, partialMetric), 1, "and emits what it had")
}

func TestTermReportsShowInTheStatusUntilClearedOrTheTermEnds(t *testing.T) {
	terms := make(chan Term, 2)
	src := newTestSource()
	src.lead = func(_ context.Context, term Term) { terms <- term }
	elector := &leadergatetest.FakeElector{}
	id := electorID
	rcv, _, _ := newReceiver(t, src, &id)
	host := &reportingHost{Host: leadergatetest.NewHost(electorID, elector)}
	start(t, rcv, host)
	elector.BecomeLeader()
	term := <-terms

	term.Report("secrets", errors.New("secrets: access forbidden"))
	term.Report("nodes", errors.New("nodes: connection refused"))
	term.Report("nodes", nil)
	elector.LoseLeadership()
	require.Eventually(t, func() bool { return src.leadDone.Load() == 1 }, waitFor, tick)
	term.Report("late", errors.New("after the term")) // ignored

	want := []string{
		"StatusRecoverableError: secrets: secrets: access forbidden",
		"StatusRecoverableError: nodes: nodes: connection refused; secrets: secrets: access forbidden",
		"StatusRecoverableError: secrets: secrets: access forbidden",
		"StatusOK",
	}
	require.Eventually(t, func() bool { return len(host.summary()) >= len(want) }, waitFor, tick)
	time.Sleep(20 * time.Millisecond) // a late report, were it not ignored, would follow
	assert.Equal(t, want, host.summary())
}

func TestAnExpiredLeaseEmitsNothing(t *testing.T) {
	elector := &leadergatetest.FakeElector{}
	src := newTestSource()
	id := electorID
	rcv, sink, _ := newReceiver(t, src, &id)
	start(t, rcv, leadergatetest.NewHost(electorID, elector))
	elector.BecomeLeader()
	waitBatch(t, sink, 0, hasSelfMetrics)

	elector.ExpireLease() // frozen past the lease: still "leading" until the elector notices
	n := len(sink.AllMetrics())
	stale, i := waitBatch(t, sink, n, func(md pmetric.Metrics) bool { return countMarkers(md) > 0 })
	assert.Len(t, markers(stale, sourceMetric), 1, "the next cycle takes the term's series back")
	assert.Zero(t, stale.DataPointCount()-countMarkers(stale), "and emits nothing it collected")
	collects := src.collects.Load()
	require.Eventually(t, func() bool { return src.collects.Load() > collects+3 }, waitFor, tick)
	assert.Len(t, sink.AllMetrics(), i+1, "cycles on an expired lease emit nothing more")

	elector.LoseLeadership() // the elector notices: nothing is left to mark
	require.Eventually(t, func() bool { return src.leadDone.Load() == 1 }, waitFor, tick)
	assert.Len(t, sink.AllMetrics(), i+1)
}
