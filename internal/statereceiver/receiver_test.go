package statereceiver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/goleak"

	"github.com/labring/otelcol-sealos/internal/leadergate/leadergatetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	waitFor = 5 * time.Second
	tick    = 5 * time.Millisecond

	sourceMetric  = "test.source.items"
	partialMetric = "test.source.partial"
)

var (
	testType  = component.MustNewType("teststate")
	electorID = component.MustNewIDWithName("k8s_leader_elector", "state")
)

// testSource is a Source whose Collect results the test scripts per cycle.
type testSource struct {
	startErr    error
	shutdownErr error
	// collect returns the metrics of cycle n (1-based); nil means one gauge valued n.
	collect func(ctx context.Context, n int) (pmetric.Metrics, error)
	// lead, when set, runs as Lead instead of calling term.Ready at once.
	lead func(ctx context.Context, term Term)

	mu        sync.Mutex
	host      component.Host
	collects  atomic.Int32
	leads     atomic.Int32
	leadDone  atomic.Int32
	leadCtxs  chan context.Context
	shutdowns atomic.Int32
}

func newTestSource() *testSource {
	return &testSource{leadCtxs: make(chan context.Context, 16)}
}

// collectFunc adapts a per-cycle script that needs no context.
func collectFunc(f func(n int) (pmetric.Metrics, error)) func(context.Context, int) (pmetric.Metrics, error) {
	return func(_ context.Context, n int) (pmetric.Metrics, error) { return f(n) }
}

func (s *testSource) Start(_ context.Context, host component.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host = host
	return s.startErr
}

func (s *testSource) Lead(ctx context.Context, term Term) {
	s.leads.Add(1)
	s.leadCtxs <- ctx
	if s.lead != nil {
		s.lead(ctx, term)
	} else {
		term.Ready()
	}
	<-ctx.Done()
	s.leadDone.Add(1)
}

func (s *testSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	n := int(s.collects.Add(1))
	if s.collect != nil {
		return s.collect(ctx, n)
	}
	return sourceMetrics(sourceMetric, n), nil
}

func (s *testSource) Shutdown(context.Context) error {
	s.shutdowns.Add(1)
	return s.shutdownErr
}

func (s *testSource) startedWith() component.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host
}

// sourceMetrics builds what a receiver's Collect returns: one gauge in a resource of its own.
func sourceMetrics(name string, value int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("k8s.cluster.name", "test")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(int64(value))
	return md
}

type point struct {
	scope string
	unit  string
	attrs map[string]any
	ts    pcommon.Timestamp
	value float64
}

// points returns every live gauge data point of the named metric in md (markers excluded).
func points(md pmetric.Metrics, name string) []point {
	return gaugePoints(md, name, false)
}

// markers returns the staleness markers of the named gauge in md.
func markers(md pmetric.Metrics, name string) []point {
	return gaugePoints(md, name, true)
}

func gaugePoints(md pmetric.Metrics, name string, stale bool) []point {
	var out []point
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if m.Name() != name || m.Type() != pmetric.MetricTypeGauge {
					continue
				}
				dps := m.Gauge().DataPoints()
				for l := 0; l < dps.Len(); l++ {
					dp := dps.At(l)
					if dp.Flags().NoRecordedValue() != stale {
						continue
					}
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					out = append(out, point{scope: sms.At(j).Scope().Name(), unit: m.Unit(), attrs: dp.Attributes().AsRaw(), ts: dp.Timestamp(), value: v})
				}
			}
		}
	}
	return out
}

// onePoint requires exactly one data point of the named metric in md.
func onePoint(t *testing.T, md pmetric.Metrics, name string) point {
	t.Helper()
	pts := points(md, name)
	require.Len(t, pts, 1, "want exactly one %s data point", name)
	return pts[0]
}

// waitBatch waits for a batch the sink received, at index from or later, that satisfies ok.
func waitBatch(t *testing.T, sink *consumertest.MetricsSink, from int, ok func(pmetric.Metrics) bool) (pmetric.Metrics, int) {
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
	}, waitFor, tick, "no matching batch reached the sink")
	return found, index
}

func hasSelfMetrics(md pmetric.Metrics) bool { return len(points(md, metricSuccess)) > 0 }

func newReceiver(t *testing.T, src Source, elector *component.ID) (receiver.Metrics, *consumertest.MetricsSink, receiver.Settings) {
	t.Helper()
	cfg := Config{CollectionInterval: 10 * time.Millisecond, K8sLeaderElector: elector}
	return newReceiverWith(t, src, &cfg)
}

func newReceiverWith(t *testing.T, src Source, cfg *Config) (receiver.Metrics, *consumertest.MetricsSink, receiver.Settings) {
	t.Helper()
	set := receivertest.NewNopSettings(testType)
	sink := new(consumertest.MetricsSink)
	rcv, err := NewMetrics(set, cfg, sink, src)
	require.NoError(t, err)
	return rcv, sink, set
}

// start starts rcv and returns its Shutdown, which runs at most once and by cleanup at the latest
// (receivers are shut down exactly once).
func start(t *testing.T, rcv receiver.Metrics, host component.Host) (shutdown func() error) {
	t.Helper()
	require.NoError(t, rcv.Start(context.Background(), host))
	shutdown = sync.OnceValue(func() error { return rcv.Shutdown(context.Background()) })
	t.Cleanup(func() { assert.NoError(t, shutdown()) })
	return shutdown
}

// checkSelfMetrics checks the shape every cycle's self-metrics share and returns success.
func checkSelfMetrics(t *testing.T, md pmetric.Metrics, collector string) (success point, duration point) {
	t.Helper()
	wantAttrs := map[string]any{collectorAttribute: collector}
	duration = onePoint(t, md, metricDuration)
	success = onePoint(t, md, metricSuccess)
	for _, p := range []point{duration, success} {
		assert.Equal(t, scopeName, p.scope)
		assert.Equal(t, wantAttrs, p.attrs)
		assert.NotZero(t, p.ts)
	}
	assert.Equal(t, unitSeconds, duration.unit)
	assert.Equal(t, unitStatus, success.unit)
	assert.GreaterOrEqual(t, duration.value, 0.0)
	assert.Less(t, duration.value, waitFor.Seconds())
	assert.Equal(t, duration.ts, success.ts, "one cycle's self-metrics share a timestamp")
	if last := points(md, metricLastCollection); len(last) > 0 {
		require.Len(t, last, 1)
		assert.Equal(t, scopeName, last[0].scope)
		assert.Equal(t, wantAttrs, last[0].attrs)
		assert.Equal(t, unitUnixTimestampSecs, last[0].unit)
		assert.Equal(t, success.ts, last[0].ts)
	}
	return success, duration
}

func TestNoElectorEmitsSourceAndSelfMetrics(t *testing.T) {
	src := newTestSource()
	rcv, sink, set := newReceiver(t, src, nil)
	host := componenttest.NewNopHost()
	before := time.Now()
	shutdown := start(t, rcv, host)
	assert.Equal(t, host, src.startedWith(), "Source.Start gets the host")

	md, _ := waitBatch(t, sink, 0, hasSelfMetrics)
	after := time.Now()

	// The source's metrics come through untouched, next to the self-metrics' own resource.
	require.Equal(t, 2, md.ResourceMetrics().Len())
	items := onePoint(t, md, sourceMetric)
	assert.Positive(t, items.value)
	assert.Equal(t, 1+3, md.DataPointCount(), "the source's point plus three self-metrics")
	self := md.ResourceMetrics().At(1)
	assert.Equal(t, 0, self.Resource().Attributes().Len())
	assert.Equal(t, scopeName, self.ScopeMetrics().At(0).Scope().Name())

	success, _ := checkSelfMetrics(t, md, set.ID.String())
	assert.Equal(t, testType.String(), set.ID.Type().String())
	assert.InDelta(t, 1.0, success.value, 0)
	last := onePoint(t, md, metricLastCollection)
	assert.GreaterOrEqual(t, last.value, float64(before.UnixNano())/1e9)
	assert.LessOrEqual(t, last.value, float64(after.UnixNano())/1e9)
	assert.InDelta(t, float64(success.ts.AsTime().UnixNano())/1e9, last.value, 1e-6, "a successful cycle's last collection time is its own time")

	// Without an elector the receiver leads from the start.
	require.Eventually(t, func() bool { return src.leads.Load() == 1 }, waitFor, tick)
	leadCtx := <-src.leadCtxs
	assert.NoError(t, leadCtx.Err())

	// Later cycles keep succeeding, each with a later collection time.
	first := last.value
	next, _ := waitBatch(t, sink, 0, func(md pmetric.Metrics) bool {
		pts := points(md, metricLastCollection)
		return len(pts) == 1 && pts[0].value > first
	})
	assert.InDelta(t, 1.0, onePoint(t, next, metricSuccess).value, 0)

	require.NoError(t, shutdown())
	assert.ErrorIs(t, leadCtx.Err(), context.Canceled, "Shutdown ends Lead")
	assert.EqualValues(t, 1, src.leadDone.Load(), "Shutdown waits for Lead to return")
	assert.EqualValues(t, 1, src.shutdowns.Load())
	assert.EqualValues(t, 1, src.leads.Load())
}

func TestFailedCollectStillEmits(t *testing.T) {
	collectErr := errors.New("list pods: forbidden")
	src := newTestSource()
	src.collect = collectFunc(func(n int) (pmetric.Metrics, error) {
		if n == 1 {
			return sourceMetrics(sourceMetric, n), nil
		}
		return sourceMetrics(partialMetric, n), collectErr
	})
	rcv, sink, set := newReceiver(t, src, nil)
	start(t, rcv, componenttest.NewNopHost())

	ok, okIndex := waitBatch(t, sink, 0, hasSelfMetrics)
	okSuccess, _ := checkSelfMetrics(t, ok, set.ID.String())
	require.InDelta(t, 1.0, okSuccess.value, 0, "the first cycle succeeds")
	lastSuccess := onePoint(t, ok, metricLastCollection).value

	// Wait for two failed cycles, so the second shows the state is not reset by a failure either.
	failed, i := waitBatch(t, sink, okIndex+1, hasSelfMetrics)
	failedAgain, _ := waitBatch(t, sink, i+1, hasSelfMetrics)
	assert.Len(t, markers(failed, sourceMetric), 1, "a failed cycle is the whole truth too: what it lacks is marked stale")
	assert.Empty(t, markers(failedAgain, sourceMetric), "a series is marked stale once")
	for _, md := range []pmetric.Metrics{failed, failedAgain} {
		partial := onePoint(t, md, partialMetric)
		assert.Greater(t, partial.value, 1.0, "a failed cycle's partial metrics are still emitted")
		assert.Empty(t, points(md, sourceMetric))

		success, _ := checkSelfMetrics(t, md, set.ID.String())
		assert.InDelta(t, 0.0, success.value, 0, "a failed cycle reports success=0")
		assert.Greater(t, success.ts, okSuccess.ts, "a failed cycle still has its own timestamp")

		last := onePoint(t, md, metricLastCollection)
		assert.InDelta(t, lastSuccess, last.value, 0, "last_collection_timestamp keeps the last success time")
		assert.Less(t, last.value, float64(success.ts.AsTime().UnixNano())/1e9)
	}
}

func TestFailingFromTheStartHasNoLastCollection(t *testing.T) {
	src := newTestSource()
	src.collect = collectFunc(func(n int) (pmetric.Metrics, error) {
		return sourceMetrics(partialMetric, n), errors.New("api server unavailable")
	})
	rcv, sink, set := newReceiver(t, src, nil)
	start(t, rcv, componenttest.NewNopHost())

	md, _ := waitBatch(t, sink, 0, hasSelfMetrics)
	success, _ := checkSelfMetrics(t, md, set.ID.String())
	assert.InDelta(t, 0.0, success.value, 0)
	assert.Empty(t, points(md, metricLastCollection), "no success yet: no last collection time")
	assert.Len(t, points(md, partialMetric), 1)
}

func TestZeroValueMetricsFromCollect(t *testing.T) {
	// A Collect that returns the zero pmetric.Metrics (typical on an early error return) must not
	// break the cycle: the self-metrics are still emitted.
	for _, tt := range []struct {
		name        string
		err         error
		wantSuccess float64
	}{
		{name: "with error", err: errors.New("boom"), wantSuccess: 0},
		{name: "without error", wantSuccess: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := newTestSource()
			src.collect = collectFunc(func(int) (pmetric.Metrics, error) { return pmetric.Metrics{}, tt.err })
			rcv, sink, set := newReceiver(t, src, nil)
			start(t, rcv, componenttest.NewNopHost())

			md, _ := waitBatch(t, sink, 0, hasSelfMetrics)
			success, _ := checkSelfMetrics(t, md, set.ID.String())
			assert.InDelta(t, tt.wantSuccess, success.value, 0)
			assert.Equal(t, 1, md.ResourceMetrics().Len(), "only the self-metrics' resource")
		})
	}
}

func TestLeaderGating(t *testing.T) {
	elector := &leadergatetest.FakeElector{}
	src := newTestSource()
	id := electorID
	rcv, sink, set := newReceiver(t, src, &id)
	start(t, rcv, leadergatetest.NewHost(electorID, elector))
	require.Equal(t, 1, elector.Registrations())

	// Follower: nothing runs, nothing is emitted (checked after a few intervals' worth of time).
	time.Sleep(100 * time.Millisecond)
	assert.Empty(t, sink.AllMetrics(), "a follower emits nothing")
	assert.Zero(t, src.collects.Load(), "Collect must not run while following")
	assert.Zero(t, src.leads.Load(), "Lead must not run while following")

	// Leader: metrics flow and Lead runs.
	elector.BecomeLeader()
	md, _ := waitBatch(t, sink, 0, hasSelfMetrics)
	assert.Len(t, points(md, sourceMetric), 1)
	success, _ := checkSelfMetrics(t, md, set.ID.String())
	assert.InDelta(t, 1.0, success.value, 0)
	require.Eventually(t, func() bool { return src.leads.Load() == 1 }, waitFor, tick)
	leadCtx := <-src.leadCtxs
	assert.NoError(t, leadCtx.Err())

	// Follower again: Lead's ctx is cancelled, the term's series are marked stale, emission stops.
	n := len(sink.AllMetrics())
	elector.LoseLeadership()
	require.Eventually(t, func() bool { return src.leadDone.Load() == 1 }, waitFor, tick)
	last, _ := waitBatch(t, sink, n, func(md pmetric.Metrics) bool { return countMarkers(md) > 0 })
	assert.Zero(t, last.DataPointCount()-countMarkers(last), "the last batch of a term holds only markers")
	assert.Len(t, markers(last, sourceMetric), 1)
	assert.Len(t, markers(last, metricSuccess), 1, "the self-metrics vanish with the lease too")
	time.Sleep(50 * time.Millisecond) // the marker batch may still be on its way
	all := sink.AllMetrics()
	collects := src.collects.Load()
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, sink.AllMetrics(), len(all), "nothing is emitted after leadership was lost")
	assert.Equal(t, collects, src.collects.Load())

	// Leader again: Lead restarts and metrics flow again.
	elector.BecomeLeader()
	waitBatch(t, sink, len(all), hasSelfMetrics)
	assert.Greater(t, src.collects.Load(), collects)
	require.Eventually(t, func() bool { return src.leads.Load() == 2 }, waitFor, tick, "Lead restarts on regained leadership")
	assert.NoError(t, (<-src.leadCtxs).Err())
}

// countMarkers counts the data points flagged NoRecordedValue in md.
func countMarkers(md pmetric.Metrics) int {
	n := 0
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Type() == pmetric.MetricTypeGauge {
					for _, dp := range m.Gauge().DataPoints().All() {
						if dp.Flags().NoRecordedValue() {
							n++
						}
					}
				}
			}
		}
	}
	return n
}

func TestSourceStartError(t *testing.T) {
	startErr := errors.New("no such namespace")
	src := newTestSource()
	src.startErr = startErr
	rcv, sink, _ := newReceiver(t, src, nil)

	err := rcv.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorIs(t, err, startErr)

	// The collector shuts every component down after a failed start.
	require.NoError(t, rcv.Shutdown(context.Background()))
	assert.EqualValues(t, 1, src.shutdowns.Load())
	assert.Zero(t, src.leads.Load(), "a source that failed to start must not lead")
	assert.Zero(t, src.collects.Load())
	assert.Empty(t, sink.AllMetrics())
}

func TestMissingElectorExtension(t *testing.T) {
	src := newTestSource()
	id := electorID
	rcv, _, _ := newReceiver(t, src, &id)

	err := rcv.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.ErrorContains(t, err, electorID.String())
	assert.Nil(t, src.startedWith(), "a config mistake is reported before the source touches anything")
	require.NoError(t, rcv.Shutdown(context.Background()))
	assert.EqualValues(t, 1, src.shutdowns.Load())
	assert.Zero(t, src.leads.Load())
}

func TestShutdown(t *testing.T) {
	t.Run("calls Source.Shutdown and returns its error", func(t *testing.T) {
		shutdownErr := errors.New("close informers")
		src := newTestSource()
		src.shutdownErr = shutdownErr
		rcv, _, _ := newReceiver(t, src, nil)
		require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
		require.Eventually(t, func() bool { return src.leads.Load() == 1 }, waitFor, tick)

		assert.ErrorIs(t, rcv.Shutdown(context.Background()), shutdownErr)
		assert.EqualValues(t, 1, src.shutdowns.Load())
		assert.EqualValues(t, 1, src.leadDone.Load(), "Lead has returned by the time Shutdown does")
	})

	t.Run("twice", func(t *testing.T) {
		src := newTestSource()
		rcv, _, _ := newReceiver(t, src, nil)
		require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, rcv.Shutdown(context.Background()))
		require.NoError(t, rcv.Shutdown(context.Background()))
		assert.EqualValues(t, 1, src.shutdowns.Load(), "Source.Shutdown runs once")
	})

	t.Run("without Start", func(t *testing.T) {
		src := newTestSource()
		rcv, _, _ := newReceiver(t, src, nil)
		require.NoError(t, rcv.Shutdown(context.Background()))
		assert.EqualValues(t, 1, src.shutdowns.Load())
	})

	t.Run("while following", func(t *testing.T) {
		elector := &leadergatetest.FakeElector{}
		src := newTestSource()
		id := electorID
		rcv, _, _ := newReceiver(t, src, &id)
		require.NoError(t, rcv.Start(context.Background(), leadergatetest.NewHost(electorID, elector)))
		require.NoError(t, rcv.Shutdown(context.Background()))
		assert.EqualValues(t, 1, src.shutdowns.Load())

		// The elector outlives receivers; its late callbacks must be harmless.
		elector.BecomeLeader()
		elector.LoseLeadership()
		assert.Zero(t, src.leads.Load())
	})
}
