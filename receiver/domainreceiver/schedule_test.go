package domainreceiver

import (
	"sync"
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
		raise(&peak, inFlight.Add(1))
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

// The lower bound: every worker runs a job at once. Each job waits until all workers are busy,
// which a queue running fewer jobs at a time (a serial one) never reaches; after a bounded wait
// the test fails instead of hanging.
func TestRunQueueRunsWorkersJobsAtOnce(t *testing.T) {
	const workers = 4
	var inFlight, peak atomic.Int64
	allBusy, gaveUp := make(chan struct{}), make(chan struct{})
	var closeAllBusy, giveUp sync.Once
	job := func() {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		raise(&peak, n)
		if n == workers {
			closeAllBusy.Do(func() { close(allBusy) })
		}
		select {
		case <-allBusy:
		case <-gaveUp:
		case <-time.After(10 * time.Second):
			giveUp.Do(func() { close(gaveUp) })
		}
	}
	runQueue(workers, 2*workers, func(i int) []func() {
		job()
		return []func(){job, job}
	})
	select {
	case <-allBusy:
	default:
		t.Fatalf("at most %d of %d workers ran at once", peak.Load(), workers)
	}
}

// raise sets peak to n if n is higher.
func raise(peak *atomic.Int64, n int64) {
	for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
	}
}
