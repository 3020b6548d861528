package k8swatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// probeKey is the status key of an unreachable API server, shared by every watch of a receiver.
const probeKey = "api server"

// stopGrace bounds how long a term's end waits for its informers. client-go's streaming list backs
// off (up to 30 s) without watching the stop channel while the server is unreachable; such an
// informer ends on its own after that backoff, and the term need not wait for it.
const stopGrace = 2 * time.Second

// Probe reports whether the API server answers.
type Probe func(ctx context.Context) error

// VersionProbe asks the server behind client (a clientset's Discovery().RESTClient(), or any REST
// client of the same server) for /version.
func VersionProbe(client rest.Interface) Probe {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := client.Get().AbsPath("/version").Do(ctx).Error(); err != nil {
			return fmt.Errorf("API server unreachable: %w", err)
		}
		return nil
	}
}

// ProbeUntilListed runs probe with backoff (1 s doubling to 30 s) until listed is closed or ctx
// ends, reporting each failure and clearing the report when the server answers again or the list
// is in. A nil probe does nothing.
func ProbeUntilListed(ctx context.Context, listed <-chan struct{}, probe Probe, report func(error)) {
	if probe == nil {
		return
	}
	failed := false
	defer func() {
		if failed {
			report(nil)
		}
	}()
	for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-listed:
			timer.Stop()
			return
		case <-timer.C:
		}
		switch err := probe(ctx); {
		case err != nil && ctx.Err() == nil:
			failed = true
			report(err)
		case err == nil && failed:
			failed = false
			report(nil)
		}
	}
}

// waitAtMost waits for wg, or until d has passed.
func waitAtMost(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
}
