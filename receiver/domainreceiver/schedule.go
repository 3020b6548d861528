package domainreceiver

import (
	"context"
	"sync"
)

// runChecks resolves every target and checks every resolved address, with at most
// max_concurrent_checks lookups, handshakes and requests in flight. A fixed pool of workers takes
// the address checks of already resolved targets before resolving the next target, so a cycle
// keeps few targets half done and its goroutines are the pool, whatever the number of targets.
func (s *domainSource) runChecks(ctx context.Context) []targetResult {
	results := make([]targetResult, len(s.targets))
	runQueue(s.cfg.MaxConcurrentChecks, len(s.targets), func(i int) []func() {
		return s.resolveTarget(ctx, s.targets[i], &results[i])
	})
	return results
}

// runQueue runs resolve(i) for every target i and every job it returns on a pool of workers,
// returning when all are done.
func runQueue(workers, targets int, resolve func(i int) []func()) {
	q := &workQueue{resolveNext: resolve, targets: targets}
	q.cond = sync.NewCond(&q.mu)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(q.work)
	}
	wg.Wait()
}

// workQueue hands out jobs: queued address checks first, then the next target to resolve.
type workQueue struct {
	mu          sync.Mutex
	cond        *sync.Cond
	checks      []func()
	nextTarget  int
	targets     int
	running     int
	resolveNext func(i int) []func() // resolves target i and returns its address checks
}

func (q *workQueue) work() {
	for {
		q.mu.Lock()
		for len(q.checks) == 0 && q.nextTarget == q.targets && q.running > 0 {
			q.cond.Wait() // a running lookup may still queue checks
		}
		if len(q.checks) == 0 && q.nextTarget == q.targets {
			q.mu.Unlock()
			q.cond.Broadcast()
			return
		}
		var job func()
		if n := len(q.checks); n > 0 {
			job, q.checks = q.checks[n-1], q.checks[:n-1]
		} else {
			i := q.nextTarget
			q.nextTarget++
			job = func() { q.push(q.resolveNext(i)) }
		}
		q.running++
		q.mu.Unlock()

		job()

		q.mu.Lock()
		q.running--
		idle := q.running == 0
		q.mu.Unlock()
		if idle {
			q.cond.Broadcast() // waiting workers may be done
		}
	}
}

func (q *workQueue) push(checks []func()) {
	if len(checks) == 0 {
		return
	}
	q.mu.Lock()
	q.checks = append(q.checks, checks...)
	q.mu.Unlock()
	q.cond.Broadcast()
}
