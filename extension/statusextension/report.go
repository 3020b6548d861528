package statusextension

import (
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/labring/otelcol-sealos/internal/gatestatus"
	"github.com/labring/otelcol-sealos/internal/leadergate"
)

// Report is the JSON document served at /status.
type Report struct {
	// Ready is the /readyz verdict, Live the /livez verdict, with the reasons when false.
	Ready    bool     `json:"ready"`
	Live     bool     `json:"live"`
	Problems []string `json:"problems,omitempty"`
	// Receivers, Processors, Exporters and Extensions by component id.
	Receivers  map[string]ComponentReport `json:"receivers"`
	Processors map[string]ComponentReport `json:"processors,omitempty"`
	Exporters  map[string]ComponentReport `json:"exporters,omitempty"`
	Extensions map[string]ComponentReport `json:"extensions,omitempty"`
	// Leases by elector extension id (leader_election instances).
	Leases map[string]LeaseReport `json:"leases,omitempty"`
}

// ComponentReport is one component's state.
type ComponentReport struct {
	State  string    `json:"state"`
	Status string    `json:"status"` // the last componentstatus event, e.g. StatusRecoverableError
	Since  time.Time `json:"since"`
	// LastError is the text of the last error event, kept after recovery; empty if none yet.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// LeaderElector and Leading are set for leader-gated receivers.
	LeaderElector string `json:"leader_elector,omitempty"`
	Leading       *bool  `json:"leading,omitempty"`
}

// LeaseReport is one elector's view of its lease.
type LeaseReport struct {
	Lease    string `json:"lease"`    // namespace/name
	Identity string `json:"identity"` // this process's holder identity
	Holder   string `json:"holder"`   // who holds it ("" while nobody does)
	Leading  bool   `json:"leading"`  // this process holds it
}

// report builds the document from the tracked events, the gates and the electors.
func (t *tracker) report(extensions map[component.ID]component.Component) Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := Report{
		Ready: t.ready, Live: true,
		Receivers: map[string]ComponentReport{}, Processors: map[string]ComponentReport{},
		Exporters: map[string]ComponentReport{}, Extensions: map[string]ComponentReport{},
		Leases: map[string]LeaseReport{},
	}
	if !t.ready {
		r.Problems = append(r.Problems, "pipelines are not running (starting, reloading or stopping)")
	}
	for _, id := range sortedIDs(t.components) {
		st := t.components[id]
		cr := ComponentReport{Status: st.status.String(), Since: st.since, LastError: st.lastError}
		if !st.lastErrorAt.IsZero() {
			at := st.lastErrorAt
			cr.LastErrorAt = &at
		}
		gated, leading := false, false
		if st.kind == component.KindReceiver {
			if gate, ok := gatestatus.Lookup(id); ok {
				gated, leading = true, gate.Leading()
				cr.LeaderElector, cr.Leading = gate.Elector.String(), &leading
			}
		}
		cr.State = stateOf(st.status, gated, leading)
		switch st.status {
		case componentstatus.StatusFatalError:
			r.Live = false
			r.Ready = false
			r.Problems = append(r.Problems, id.String()+": fatal: "+st.lastError)
		case componentstatus.StatusPermanentError:
			r.Ready = false
			r.Problems = append(r.Problems, id.String()+": permanent error: "+st.lastError)
		}
		switch st.kind {
		case component.KindReceiver:
			r.Receivers[id.String()] = cr
		case component.KindProcessor:
			r.Processors[id.String()] = cr
		case component.KindExporter:
			r.Exporters[id.String()] = cr
		case component.KindExtension:
			r.Extensions[id.String()] = cr
		}
	}
	for _, id := range sortedIDs(extensions) {
		if e, ok := extensions[id].(leadergate.Observable); ok {
			r.Leases[id.String()] = LeaseReport{Lease: e.Lease(), Identity: e.Identity(), Holder: e.Holder(), Leading: e.Leading()}
		}
	}
	return r
}
