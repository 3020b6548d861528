package statusextension

import (
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
)

// States of a component in the report.
const (
	stateStarting = "starting"
	stateRunning  = "running"
	stateStandby  = "standby" // leader-gated and another replica leads
	stateFailed   = "failed"
	stateStopping = "stopping"
	stateStopped  = "stopped"
)

// componentState is what the tracker keeps per component from its status events.
type componentState struct {
	kind        component.Kind
	status      componentstatus.Status
	since       time.Time
	lastError   string
	lastErrorAt time.Time
}

// tracker keeps the latest status event of every component, and whether the pipelines run.
type tracker struct {
	mu         sync.Mutex
	components map[component.ID]*componentState
	ready      bool // between PipelineWatcher.Ready and NotReady
}

func newTracker() *tracker { return &tracker{components: map[component.ID]*componentState{}} }

func (t *tracker) record(source *componentstatus.InstanceID, ev *componentstatus.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := source.ComponentID()
	st, ok := t.components[id]
	if !ok {
		st = &componentState{kind: source.Kind()}
		t.components[id] = st
	}
	if st.status != ev.Status() {
		st.since = ev.Timestamp()
	}
	st.status = ev.Status()
	if ev.Err() != nil {
		st.lastError, st.lastErrorAt = ev.Err().Error(), ev.Timestamp()
	}
}

func (t *tracker) setReady(ready bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ready = ready
}

// stateOf maps a status event (and, for gated receivers, the gate) to the report's state.
func stateOf(status componentstatus.Status, gated, leading bool) string {
	switch status {
	case componentstatus.StatusPermanentError, componentstatus.StatusFatalError:
		return stateFailed
	case componentstatus.StatusStopping:
		return stateStopping
	case componentstatus.StatusStopped:
		return stateStopped
	case componentstatus.StatusNone, componentstatus.StatusStarting:
		return stateStarting
	}
	if gated && !leading {
		return stateStandby
	}
	if status == componentstatus.StatusRecoverableError {
		return stateFailed
	}
	return stateRunning
}

func sortedIDs[V any](m map[component.ID]V) []component.ID {
	ids := make([]component.ID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	return ids
}
