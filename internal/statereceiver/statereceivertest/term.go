// Package statereceivertest gives receivers' tests what the framework hands them: the Term of a
// Source's Lead, a host recording component status, and a wait for the batch a cycle emits.
package statereceivertest

import (
	"sync"
)

// Term records what a Source tells the framework.
type Term struct {
	ready     chan struct{}
	readyOnce sync.Once

	mu      sync.Mutex
	reports map[string]error
}

// NewTerm returns a Term that has seen nothing.
func NewTerm() *Term { return &Term{ready: make(chan struct{}), reports: map[string]error{}} }

// Ready records that the source's state is known.
func (t *Term) Ready() { t.readyOnce.Do(func() { close(t.ready) }) }

// Report records (err != nil) or clears a named problem.
func (t *Term) Report(key string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		delete(t.reports, key)
		return
	}
	t.reports[key] = err
}

// ReadyC is closed once Ready was called.
func (t *Term) ReadyC() <-chan struct{} { return t.ready }

// Reports returns the problems currently reported.
func (t *Term) Reports() map[string]error {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]error, len(t.reports))
	for k, v := range t.reports {
		out[k] = v
	}
	return out
}
