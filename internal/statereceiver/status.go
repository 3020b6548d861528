package statereceiver

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
)

// statusReporter is the one place a receiver's component status is written: StatusOK while the
// last cycle succeeded and no problem is reported, else StatusRecoverableError naming every
// problem and the cycle's error. Only changes are reported.
type statusReporter struct {
	host component.Host // nil until Start

	mu       sync.Mutex
	problems map[string]string
	cycleErr string
	stopped  bool
	reported bool
	last     string
}

// problem sets (err != nil) or clears a named problem.
func (s *statusReporter) problem(key string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.problems, key)
	} else {
		if s.problems == nil {
			s.problems = map[string]string{}
		}
		s.problems[key] = err.Error()
	}
	s.publish()
}

// cycle records a cycle's outcome; it reports whether the outcome differs from the previous one.
func (s *statusReporter) cycle(err error) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	changed = msg != s.cycleErr
	s.cycleErr = msg
	s.publish()
	return changed
}

// stop ends reporting: a component that is shutting down reports nothing more.
func (s *statusReporter) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
}

func (s *statusReporter) publish() {
	if s.host == nil || s.stopped {
		return
	}
	var parts []string
	for _, key := range slices.Sorted(maps.Keys(s.problems)) {
		parts = append(parts, key+": "+s.problems[key])
	}
	if s.cycleErr != "" {
		parts = append(parts, "last cycle: "+s.cycleErr)
	}
	msg := strings.Join(parts, "; ")
	if s.reported && msg == s.last {
		return
	}
	s.reported, s.last = true, msg
	if msg == "" {
		componentstatus.ReportStatus(s.host, componentstatus.NewEvent(componentstatus.StatusOK))
		return
	}
	componentstatus.ReportStatus(s.host, componentstatus.NewRecoverableErrorEvent(errors.New(msg)))
}
