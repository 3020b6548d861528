// Package gatestatus lets the status extension see which receivers are leader-gated and whether
// their gate is open. Receivers and extensions are built into one process but never see each
// other, so the receivers register here (statereceiver does it for every otelcol-sealos receiver).
package gatestatus

import (
	"sync"

	"go.opentelemetry.io/collector/component"
)

// Gate is one leader-gated receiver's gate.
type Gate struct {
	// Elector is the receiver's k8s_leader_elector setting.
	Elector component.ID
	// Leading reports whether the receiver may emit now.
	Leading func() bool
}

type entry struct {
	gate Gate
	tok  *int // identifies one registration, so a late unregister cannot remove a newer one
}

var (
	mu    sync.Mutex
	gates = map[component.ID]entry{}
)

// Register records receiver's gate until unregister is called (on the receiver's Shutdown). A
// reload registers the new receiver under the same id; the old one's unregister is then a no-op.
func Register(receiver component.ID, g Gate) (unregister func()) {
	tok := new(int)
	mu.Lock()
	gates[receiver] = entry{gate: g, tok: tok}
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if e, ok := gates[receiver]; ok && e.tok == tok {
			delete(gates, receiver)
		}
	}
}

// Lookup returns receiver's gate, if it is a registered leader-gated receiver.
func Lookup(receiver component.ID) (Gate, bool) {
	mu.Lock()
	defer mu.Unlock()
	e, ok := gates[receiver]
	return e.gate, ok
}
