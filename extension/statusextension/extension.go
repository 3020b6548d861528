package statusextension

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"
)

type status struct {
	cfg      *Config
	settings component.TelemetrySettings
	tracker  *tracker

	host   component.Host
	server *http.Server
	done   chan struct{}
	once   sync.Once
}

var (
	_ extension.Extension                   = (*status)(nil)
	_ componentstatus.Watcher               = (*status)(nil)
	_ extensioncapabilities.PipelineWatcher = (*status)(nil)
)

func newStatus(cfg *Config, set extension.Settings) *status {
	return &status{cfg: cfg, settings: set.TelemetrySettings, tracker: newTracker()}
}

// ComponentStatusChanged receives every component's status events (also before Start).
func (s *status) ComponentStatusChanged(source *componentstatus.InstanceID, event *componentstatus.Event) {
	s.tracker.record(source, event)
}

// Ready is called once every pipeline runs; NotReady before they stop (shutdown or reload).
func (s *status) Ready() error    { s.tracker.setReady(true); return nil }
func (s *status) NotReady() error { s.tracker.setReady(false); return nil }

func (s *status) Start(ctx context.Context, host component.Host) error {
	s.host = host
	ln, err := s.cfg.ToListener(ctx)
	if err != nil {
		return err
	}
	s.server, err = s.cfg.ToServer(ctx, host.GetExtensions(), s.settings, s.handler())
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	s.settings.Logger.Info("Serving status", zap.String("endpoint", ln.Addr().String()))
	return nil
}

func (s *status) Shutdown(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		if s.server == nil {
			return
		}
		err = s.server.Shutdown(ctx)
		<-s.done
	})
	return err
}

// handler serves:
//   - /status: the whole report, always 200;
//   - /livez: 200 unless the process itself is broken (a component's fatal error); a database,
//     domain or API server being unreachable never fails it: restarting would not fix them;
//   - /readyz: 200 once every pipeline runs and no component reported a permanent or fatal error.
func (s *status) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.report())
	})
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		r := s.report()
		writeJSON(w, verdict(r.Live), probe{OK: r.Live, Problems: r.Problems})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		r := s.report()
		writeJSON(w, verdict(r.Ready), probe{OK: r.Ready, Problems: r.Problems})
	})
	return mux
}

func (s *status) report() Report {
	var extensions map[component.ID]component.Component
	if s.host != nil {
		extensions = s.host.GetExtensions()
	}
	return s.tracker.report(extensions)
}

type probe struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems,omitempty"`
}

func verdict(ok bool) int {
	if ok {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
