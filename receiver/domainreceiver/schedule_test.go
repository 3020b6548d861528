package domainreceiver

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Lookups and checks together never exceed the bound, and every job runs once.
func TestRunQueueBoundsConcurrency(t *testing.T) {
	const workers, targets, checksPerTarget = 3, 40, 4
	var inFlight, peak, lookups, checks atomic.Int64
	enter := func() {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(time.Millisecond) // long enough for the workers to overlap
		inFlight.Add(-1)
	}
	runQueue(workers, targets, func(i int) []func() {
		enter()
		lookups.Add(1)
		if i%5 == 0 {
			return nil // a name that did not resolve
		}
		jobs := make([]func(), checksPerTarget)
		for j := range jobs {
			jobs[j] = func() { enter(); checks.Add(1) }
		}
		return jobs
	})
	assert.EqualValues(t, targets, lookups.Load())
	assert.EqualValues(t, (targets-targets/5)*checksPerTarget, checks.Load())
	assert.LessOrEqual(t, peak.Load(), int64(workers))
	assert.Zero(t, inFlight.Load())
}

func TestRunQueueNoTargets(t *testing.T) {
	runQueue(4, 0, func(int) []func() { t.Fatal("no target to resolve"); return nil })
}
