package imagepullreceiver

import (
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"k8s.io/client-go/tools/cache"

	"github.com/labring/otelcol-sealos/receiver/imagepullreceiver/internal/metadata"
)

// pullKey identifies the counter series of one registry on one node.
type pullKey struct{ registry, node string }

// pullStats is what the term's events added up for one registry and node.
type pullStats struct {
	results [3]int64 // by metadata.AttributeResult order: pulled, cache_hit, failed
	bytes   int64
	sized   bool     // a size was read: bytes is a true sum, not an unknown
	buckets []uint64 // len(bounds)+1: the last one is +Inf
	sum     float64
	count   uint64
}

var resultOrder = [3]metadata.AttributeResult{metadata.AttributeResultPulled, metadata.AttributeResultCacheHit, metadata.AttributeResultFailed}

// pullCounter counts the pulls the kubelets report during one leadership term. Every event is
// counted once: the informers' initial list is the starting point (those pulls happened before
// the term, and a previous leader counted them), then an added event adds its occurrences and an
// updated one the increase of its count (or series.count).
type pullCounter struct {
	bounds []float64 // seconds

	mu       sync.Mutex
	stats    map[pullKey]*pullStats
	baseline int // events of the initial lists, not counted
}

func newPullCounter(bounds []float64) *pullCounter {
	return &pullCounter{bounds: bounds, stats: map[pullKey]*pullStats{}}
}

func (c *pullCounter) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			e, ok := obj.(*pullEvent)
			if !ok || e.kind == kindOther {
				return
			}
			if initial {
				c.mu.Lock()
				c.baseline++
				c.mu.Unlock()
				return
			}
			c.add(e, e.occurrences)
		},
		UpdateFunc: func(oldObj, obj any) {
			old, ok1 := oldObj.(*pullEvent)
			e, ok2 := obj.(*pullEvent)
			if !ok1 || !ok2 {
				return
			}
			delta := e.occurrences
			if old.uid == e.uid {
				// A repeat of the same event (an aggregated one may even change its message):
				// only the increase is new.
				delta -= old.occurrences
			}
			if delta > 0 {
				c.add(e, delta)
			}
		},
	}
}

// add counts n occurrences of e. Duration and size come from the message, which describes the
// latest occurrence only: they are taken once per change of the event.
func (c *pullCounter) add(e *pullEvent, n int32) {
	var result int
	switch e.kind {
	case kindPulled:
		result = 0
	case kindCacheHit:
		result = 1
	case kindFailed:
		result = 2
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := pullKey{e.registry, e.node}
	st := c.stats[key]
	if st == nil {
		st = &pullStats{buckets: make([]uint64, len(c.bounds)+1)}
		c.stats[key] = st
	}
	st.results[result] += int64(n)
	if e.kind != kindPulled {
		return
	}
	if e.bytes >= 0 {
		st.bytes += e.bytes
		st.sized = true
	}
	if e.seconds >= 0 {
		st.buckets[bucketOf(c.bounds, e.seconds)]++
		st.sum += e.seconds
		st.count++
	}
}

// bucketOf is the index of the first bound >= v (Prometheus' le), or the +Inf bucket.
func bucketOf(bounds []float64, v float64) int {
	for i, b := range bounds {
		if v <= b {
			return i
		}
	}
	return len(bounds)
}

// record writes every series the term has accumulated: a cumulative counter must be emitted
// each cycle, or the framework would mark it stale.
func (c *pullCounter) record(mb *metadata.MetricsBuilder, hist pmetric.Metric, start, now pcommon.Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, st := range c.stats {
		for i, r := range resultOrder {
			mb.RecordImagePullsDataPoint(now, st.results[i], key.registry, key.node, r)
		}
		if st.sized {
			mb.RecordImagePullBytesDataPoint(now, st.bytes, key.registry, key.node)
		}
		if hist != (pmetric.Metric{}) {
			dp := hist.Histogram().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(now)
			dp.Attributes().PutStr("registry", key.registry)
			dp.Attributes().PutStr("node", key.node)
			dp.ExplicitBounds().FromRaw(c.bounds)
			dp.BucketCounts().FromRaw(st.buckets)
			dp.SetSum(st.sum)
			dp.SetCount(st.count)
		}
	}
}

// newDurationHistogram is image.pull.duration, which mdatagen v0.155 cannot generate (it writes
// SetDoubleValue on a histogram point and drops bucket bounds).
func newDurationHistogram() pmetric.Metric {
	m := pmetric.NewMetric()
	m.SetName("image.pull.duration")
	m.SetDescription("Time the kubelets took to pull an image (without waiting for a parallel-pull slot), " +
		"from their Pulled events during this leadership term.")
	m.SetUnit("s")
	m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	return m
}
