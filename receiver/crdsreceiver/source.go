package crdsreceiver

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/labring/otelcol-sealos/internal/k8swatch"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/crdsreceiver/internal/metadata"
)

// crdsSource watches every configured resource while leading; each cycle turns the stores'
// precomputed series into metrics.
type crdsSource struct {
	cfg    *Config
	set    receiver.Settings
	mb     *metadata.MetricsBuilder
	stores []*resourceStore
	now    func() time.Time

	client dynamic.Interface
	probe  k8swatch.Probe
}

func newCRDsSource(cfg *Config, set receiver.Settings) (*crdsSource, error) {
	specs, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	s := &crdsSource{cfg: cfg, set: set, mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set), now: time.Now}
	for i := range specs {
		s.stores = append(s.stores, newResourceStore(&specs[i]))
	}
	return s, nil
}

func (s *crdsSource) Start(context.Context, component.Host) error {
	if len(s.stores) == 0 {
		return nil // nothing to watch: a valid no-op, no API server needed
	}
	_, rc, err := s.cfg.Client("otelcol-sealos/" + s.set.ID.String())
	if err != nil {
		return err
	}
	s.client, err = dynamic.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	s.probe = k8swatch.VersionProbe(dc.RESTClient())
	return nil
}

// Lead watches every resource independently for one leadership term. The state is known, and the
// first cycle runs, once every resource has either been listed or failed its first list (a
// missing CRD must not hold back the others' export).
func (s *crdsSource) Lead(ctx context.Context, term statereceiver.Term) {
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		unsettled = len(s.stores)
		settled   = make(map[string]bool, len(s.stores))
		allIn     = make(chan struct{})
	)
	if unsettled == 0 {
		term.Ready()
		return
	}
	onState := func(resource string, err error) {
		key := "resource " + strconv.Quote(resource)
		term.Report(key, err)
		mu.Lock()
		defer mu.Unlock()
		if !settled[resource] {
			settled[resource] = true
			if unsettled--; unsettled == 0 {
				close(allIn)
				term.Ready()
			}
		}
	}
	for _, st := range s.stores {
		w := &watcher{store: st, client: s.client, onState: onState,
			logger: s.set.Logger.With(zapResource(st.spec))}
		wg.Go(func() { w.run(ctx) })
	}
	// An unreachable API server is never reported by client-go's streaming list: probe it until
	// every resource is in.
	k8swatch.ProbeUntilListed(ctx, allIn, s.probe, func(err error) { term.Report("api server", err) })
	wg.Wait()
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
