package crdsreceiver

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"k8s.io/client-go/dynamic"

	"github.com/labring/otelcol-sealos/receiver/crdsreceiver/internal/metadata"
)

// apiTimeout bounds the reachability check at start.
const apiTimeout = 10 * time.Second

// crdsSource watches every configured resource while leading; each cycle turns the stores'
// precomputed series into metrics.
type crdsSource struct {
	cfg    *Config
	set    receiver.Settings
	mb     *metadata.MetricsBuilder
	stores []*resourceStore
	now    func() time.Time

	client dynamic.Interface
	host   component.Host

	mu   sync.Mutex
	down map[string]string // resource → why it is not up, for the component status
}

func newCRDsSource(cfg *Config, set receiver.Settings) (*crdsSource, error) {
	specs, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	s := &crdsSource{cfg: cfg, set: set, mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set), now: time.Now, down: map[string]string{}}
	for i := range specs {
		s.stores = append(s.stores, newResourceStore(&specs[i]))
	}
	return s, nil
}

func (s *crdsSource) Start(ctx context.Context, host component.Host) error {
	s.host = host
	if len(s.stores) == 0 {
		return nil // nothing to watch: a valid no-op, no API server needed
	}
	_, rc, err := s.cfg.Client(ctx, "otelcol-sealos/"+s.set.ID.String(), apiTimeout)
	if err != nil {
		return err
	}
	s.client, err = dynamic.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	return nil
}

// Lead watches every resource independently for one leadership term.
func (s *crdsSource) Lead(ctx context.Context) {
	var wg sync.WaitGroup
	for _, st := range s.stores {
		w := &watcher{store: st, client: s.client, onState: s.resourceState,
			logger: s.set.Logger.With(zapResource(st.spec))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	wg.Wait()
}

// resourceState records whether a resource is up and reports the receiver's component status:
// recoverable error while any resource cannot be listed, OK once all are.
func (s *crdsSource) resourceState(resource string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.down[resource] = err.Error()
	} else {
		delete(s.down, resource)
	}
	if s.host == nil {
		return
	}
	if len(s.down) == 0 {
		componentstatus.ReportStatus(s.host, componentstatus.NewEvent(componentstatus.StatusOK))
		return
	}
	names := make([]string, 0, len(s.down))
	for name := range s.down {
		names = append(names, name)
	}
	sort.Strings(names)
	msgs := make([]string, len(names))
	for i, name := range names {
		msgs[i] = fmt.Sprintf("resource %q: %s", name, s.down[name])
	}
	componentstatus.ReportStatus(s.host, componentstatus.NewRecoverableErrorEvent(errors.New(strings.Join(msgs, "; "))))
}

func (s *crdsSource) Collect(context.Context) (pmetric.Metrics, error) {
	ts := pcommon.NewTimestampFromTime(s.now())
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	for _, st := range s.stores {
		name := st.spec.cfg.Name
		up := st.up.Load()
		s.mb.RecordCrdsResourceUpDataPoint(ts, boolValue(up), name)
		for fi := range st.spec.families {
			s.mb.RecordCrdsValueErrorsDataPoint(ts, st.valueErrors[fi].Load(), name, st.spec.families[fi].name)
		}
		if !up {
			continue
		}
		st.mu.RLock()
		n := len(st.objects)
		st.mu.RUnlock()
		s.mb.RecordCrdsObjectsDataPoint(ts, int64(n), name)
		st.emit(sm.Metrics(), ts)
	}
	self := s.mb.Emit()
	if self.ResourceMetrics().Len() > 0 {
		self.ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	}
	return md, nil
}

func (*crdsSource) Shutdown(context.Context) error { return nil }

func boolValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
