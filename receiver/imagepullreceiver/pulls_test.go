package imagepullreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/client-go/tools/cache"
)

func TestPullCounting(t *testing.T) {
	c := newPullCounter([]float64{1, 10})
	h := c.handler().(cache.ResourceEventHandlerDetailedFuncs)
	ev := func(uid string, kind eventKind, n int32, seconds float64, bytes int64) *pullEvent {
		return &pullEvent{identity: identity{uid: uidOf(uid)}, kind: kind, registry: "docker.io", node: "n", occurrences: n, seconds: seconds, bytes: bytes}
	}
	h.AddFunc(ev("old", kindPulled, 5, 2, 10), true) // the starting point
	h.AddFunc(ev("a", kindPulled, 1, 0.5, 100), false)
	h.AddFunc(ev("b", kindPulled, 1, 30, -1), false) // no size in the message
	hit := ev("c", kindCacheHit, 1, -1, -1)
	h.AddFunc(hit, false)
	// The correlator repeats c twice, then a relist shows it at 5: three more.
	h.UpdateFunc(hit, ev("c", kindCacheHit, 3, -1, -1))
	h.UpdateFunc(ev("c", kindCacheHit, 3, -1, -1), ev("c", kindCacheHit, 5, -1, -1))
	// An unchanged resync and an update of a starting-point event that adds nothing.
	h.UpdateFunc(hit, hit)
	h.UpdateFunc(ev("old", kindPulled, 5, 2, 10), ev("old", kindPulled, 5, 2, 10))
	// Deleted and recreated under the same name: a new event, counted whole.
	h.UpdateFunc(ev("d1", kindFailed, 4, -1, -1), ev("d2", kindFailed, 2, -1, -1))
	// Not a pull: nothing.
	h.AddFunc(ev("e", kindPulling, 1, -1, -1), false)
	h.AddFunc(ev("f", kindBackOff, 1, -1, -1), false)
	h.AddFunc(&pullEvent{identity: identity{uid: "g"}, kind: kindOther, occurrences: 7}, false)

	st := c.stats[pullKey{"docker.io", "n"}]
	assert.Equal(t, [3]int64{2, 5, 2}, st.results)
	assert.Equal(t, int64(100), st.bytes)
	assert.True(t, st.sized)
	assert.Equal(t, []uint64{1, 0, 1}, st.buckets)
	assert.InDelta(t, 30.5, st.sum, 1e-9)
	assert.Equal(t, uint64(2), st.count)
	assert.Equal(t, 1, c.baseline)
	assert.Len(t, c.stats, 1)
}

func TestBucketOf(t *testing.T) {
	bounds := []float64{0.5, 1, 2.5}
	for v, want := range map[float64]int{0: 0, 0.5: 0, 0.6: 1, 1: 1, 2.5: 2, 2.6: 3, 1e9: 3} {
		assert.Equal(t, want, bucketOf(bounds, v), v)
	}
}
