package watchfileprovider // import "github.com/labring/otelcol-sealos/confmap/provider/watchfileprovider"

import (
	"sync/atomic"
	"time"
)

// Process-global, so they survive reloads (the provider lives for the process; every component,
// including the receiver that exports these, is rebuilt on a reload).
var (
	processStart      = time.Now()
	reloadFailures    atomic.Int64
	lastReloadSuccess atomic.Int64 // Unix nanoseconds; 0 before the first load
)

// Stats is a snapshot of the reload counters.
type Stats struct {
	// Failures counts rejected configurations (the collector kept the previous one).
	Failures int64
	// LastSuccess is when a configuration was last loaded (start-up or accepted reload); zero if never.
	LastSuccess time.Time
	// Since is when the counting started (process start): the start time of the Failures sum.
	Since time.Time
}

// ReadStats returns the current counters.
func ReadStats() Stats {
	s := Stats{Failures: reloadFailures.Load(), Since: processStart}
	if ns := lastReloadSuccess.Load(); ns != 0 {
		s.LastSuccess = time.Unix(0, ns)
	}
	return s
}

func recordFailure() { reloadFailures.Add(1) }

func recordSuccess(t time.Time) { lastReloadSuccess.Store(t.UnixNano()) }
