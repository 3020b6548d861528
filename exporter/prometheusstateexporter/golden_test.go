package prometheusstateexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// pair is our exporter and the contrib one, configured alike.
type pair struct{ ours, contrib *running }

func startPair(t *testing.T, o options) pair {
	return pair{ours: startOurs(t, o), contrib: startContrib(t, o)}
}

func (p pair) feed(t *testing.T, md pmetric.Metrics) {
	p.ours.feed(t, md)
	p.contrib.feed(t, md)
}

// requireSame scrapes both (plain and gzip for ours) and requires equal families, series and
// values; it returns our parsed families.
func (p pair) requireSame(t *testing.T) map[string]string {
	want := families(t, scrapeRaw(t, p.contrib.url, false))
	got := families(t, scrapeRaw(t, p.ours.url, false))
	require.Equal(t, want, got)
	require.Equal(t, got, families(t, scrapeRaw(t, p.ours.url, true)), "gzip body differs from plain")
	return got
}

func TestGoldenAgainstContrib(t *testing.T) {
	cases := map[string]struct {
		o        options
		res      map[string]any
		wantFams int
	}{
		"defaults":               {res: serviceResource, wantFams: 15},
		"namespace_const_labels": {o: options{namespace: "sealos", constLabels: map[string]string{"cluster": "c1", "region": "r\"1"}}, res: serviceResource, wantFams: 15},
		"resource_to_labels":     {o: options{namespace: "sealos", resourceToLabels: true}, res: serviceResource, wantFams: 15},
		"scope_info":             {o: options{withScopeInfo: true, constLabels: map[string]string{"env": "test"}}, res: serviceResource, wantFams: 15},
		"send_timestamps":        {o: options{sendTimestamps: true, resourceToLabels: true}, res: serviceResource, wantFams: 15},
		"colliding_resource":     {o: options{resourceToLabels: true}, res: collidingResource, wantFams: 3},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := startPair(t, c.o)
			p.feed(t, corpusBatch(c.res))
			got := p.requireSame(t)
			require.Equal(t, c.wantFams, len(got), "families (lvm_vg_size_bytes is dropped by both: label é-utf8 translates to the reserved __utf8)")
		})
	}
}

// Later points replace earlier ones, older points are ignored, deltas accumulate as contrib's
// accumulator does, and a point flagged "no recorded value" removes its series.
func TestGoldenUpdatesAgainstContrib(t *testing.T) {
	p := startPair(t, options{namespace: "sealos"})
	res := map[string]any{"service.name": "svc", "service.instance.id": "i1"}

	first := pmetric.NewMetrics()
	sm := newScope(first, res)
	point(gauge(sm, "g", "", "gauge"), 1, t1, map[string]any{"k": "a"})
	point(gauge(sm, "g", "", "gauge"), 1, t1, map[string]any{"k": "gone"})
	intPoint(sum(sm, "d", "{x}", true, pmetric.AggregationTemporalityDelta), 5, t1, nil).SetStartTimestamp(t0)
	histogram(sm, "dh", pmetric.AggregationTemporalityDelta, t0, t1, []float64{1, 2}, []uint64{1, 2, 3}, 6, 10, nil)
	p.feed(t, first)
	p.requireSame(t)

	second := pmetric.NewMetrics()
	sm = newScope(second, res)
	point(gauge(sm, "g", "", "gauge"), 2, t2, map[string]any{"k": "a"})
	point(gauge(sm, "g", "", "gauge"), 9, t0, map[string]any{"k": "a"}) // older: ignored
	intPoint(sum(sm, "d", "{x}", true, pmetric.AggregationTemporalityDelta), 7, t2, nil).SetStartTimestamp(t1)
	histogram(sm, "dh", pmetric.AggregationTemporalityDelta, t1, t2, []float64{1, 2}, []uint64{4, 0, 1}, 5, 2.5, nil)
	p.feed(t, second)
	got := p.requireSame(t)
	require.Contains(t, got["sealos_g"], `sealos_g{instance="i1",job="svc",k="a"} 2`)
	require.Contains(t, got["sealos_d_total"], `sealos_d_total{instance="i1",job="svc"} 12`)

	third := pmetric.NewMetrics()
	sm = newScope(third, res)
	g := gauge(sm, "g", "", "gauge")
	point(g, 0, t2, map[string]any{"k": "gone"}).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	p.feed(t, third)
	got = p.requireSame(t)
	require.NotContains(t, got["sealos_g"], "gone")
}

// Series not updated within metric_expiration disappear from both, while a series kept fresh stays.
// Order and outcome are asserted, not a deadline: "kept" is fed again and again until "old" has
// expired in both, and every scrape without "old" must still hold "kept".
func TestGoldenExpirationAgainstContrib(t *testing.T) {
	p := startPair(t, options{expiration: 2 * time.Second})
	batch := func(keys ...string) pmetric.Metrics {
		md := pmetric.NewMetrics()
		g := gauge(newScope(md, map[string]any{"service.name": "svc", "service.instance.id": "i1"}), "g", "", "gauge")
		for _, k := range keys {
			point(g, 1, t1, map[string]any{"k": k})
		}
		return md
	}
	p.feed(t, batch("old", "kept"))
	stop, fed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(fed)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				p.feed(t, batch("kept"))
			}
		}
	}()
	var ours, contrib string
	require.Eventually(t, func() bool {
		ours, contrib = scrapeRaw(t, p.ours.url, false), scrapeRaw(t, p.contrib.url, false)
		return !contains(ours, `k="old"`) && !contains(contrib, `k="old"`)
	}, time.Minute, 100*time.Millisecond)
	require.Contains(t, ours, `k="kept"`, "the fresh series expired with the stale one")
	require.Contains(t, contrib, `k="kept"`)
	got := p.requireSame(t)
	require.Contains(t, got["g"], `k="kept"`)
	close(stop)
	<-fed
	// Everything expires in the end, target_info included.
	require.Eventually(t, func() bool {
		return len(families(t, scrapeRaw(t, p.ours.url, false))) == 0 && len(families(t, scrapeRaw(t, p.contrib.url, false))) == 0
	}, time.Minute, 100*time.Millisecond)
	p.requireSame(t)
}
