package imagepullreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/labring/otelcol-sealos/internal/k8swatch"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/imagepullreceiver/internal/metadata"
)

// podSelector leaves out pods no kubelet will pull for: unscheduled and finished ones.
var podSelector = fields.AndSelectors(
	fields.OneTermNotEqualSelector("spec.nodeName", ""),
	fields.OneTermNotEqualSelector("status.phase", "Succeeded"),
	fields.OneTermNotEqualSelector("status.phase", "Failed"),
).String()

// imagePullSource watches Pods and the kubelet's image Events while leading.
type imagePullSource struct {
	cfg    *Config
	set    receiver.Settings
	regs   registries
	bounds []float64 // histogram bounds in seconds; nil when the histogram is off
	now    func() time.Time
	client kubernetes.Interface

	pods   *k8swatch.Watch
	events *k8swatch.Watch
	term   atomic.Pointer[termState]

	// Used by cycles only (never concurrently).
	mb      *metadata.MetricsBuilder
	mbStart time.Time
}

// termState is what one leadership term has learned; a new term starts from nothing.
type termState struct {
	start  time.Time
	pods   *podTracker
	pulls  *pullCounter
	logged atomic.Bool // the events' starting point was logged

	// The handlers have seen the informers' first list. client-go hands objects to handlers
	// asynchronously, after the informer itself reports synced.
	podsHandled, eventsHandled cache.InformerSynced
}

func newImagePullSource(cfg *Config, set receiver.Settings) *imagePullSource {
	s := &imagePullSource{
		cfg: cfg, set: set, regs: newRegistries(cfg.Registries), now: time.Now,
		pods: k8swatch.New("pods"), events: k8swatch.New("pod image events"),
		mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
	}
	if cfg.DurationHistogram.Enabled {
		for _, b := range cfg.DurationHistogram.Buckets {
			s.bounds = append(s.bounds, b.Seconds())
		}
	}
	return s
}

func (s *imagePullSource) Start(context.Context, component.Host) error {
	rc, err := s.cfg.RestConfig("otelcol-sealos/" + s.set.ID.String())
	if err != nil {
		return err
	}
	// Pods and Events are built-in types: protobuf watch frames are smaller than JSON ones.
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	if s.client, err = kubernetes.NewForConfig(rc); err != nil {
		return fmt.Errorf("kubernetes client for %s: %w", rc.Host, err)
	}
	return nil
}

// Lead runs the informers for one leadership term; the term's state starts empty.
func (s *imagePullSource) Lead(ctx context.Context, term statereceiver.Term) {
	st := &termState{start: s.now(), pods: newPodTracker(s.now), pulls: newPullCounter(s.bounds)}
	var (
		runs    []func(k8swatch.Term)
		handled []cache.InformerSynced
	)
	if s.cfg.watchesPods() {
		inf, synced := s.podInformer(st.pods)
		st.podsHandled, handled = synced, append(handled, synced)
		runs = append(runs, func(t k8swatch.Term) {
			s.pods.Run(ctx, t, k8swatch.VersionProbe(s.client.Discovery().RESTClient()), inf)
		})
	}
	if s.cfg.watchesEvents() {
		infs, synced := s.eventInformers(st.pulls)
		st.eventsHandled, handled = synced, append(handled, synced)
		runs = append(runs, func(t k8swatch.Term) {
			s.events.Run(ctx, t, k8swatch.VersionProbe(s.client.Discovery().RESTClient()), infs...)
		})
	}
	s.term.Store(st)
	if len(runs) == 0 {
		term.Ready() // every metric is disabled: nothing to wait for
		<-ctx.Done()
		return
	}
	ready := &allReady{Term: term, ctx: ctx, handled: handled}
	ready.left.Store(int32(len(runs)))
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(func() { run(ready) })
	}
	wg.Wait()
}

func (s *imagePullSource) podInformer(pods *podTracker) (cache.SharedIndexInformer, cache.InformerSynced) {
	inf := coreinformers.NewFilteredPodInformer(s.client, metav1.NamespaceAll, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.FieldSelector = podSelector })
	_ = inf.SetTransform(podTransform(s.regs)) // cannot fail before Run
	reg, _ := inf.AddEventHandler(pods.handler())
	return inf, reg.HasSynced
}

// eventInformers watches each kubelet image reason about Pods, filtered by the API server: most
// Events (scheduling, probes, other kinds) never reach the receiver.
func (s *imagePullSource) eventInformers(pulls *pullCounter) ([]cache.SharedIndexInformer, cache.InformerSynced) {
	infs := make([]cache.SharedIndexInformer, len(pullReasons))
	regs := make([]cache.ResourceEventHandlerRegistration, len(pullReasons))
	for i, reason := range pullReasons {
		selector := fields.AndSelectors(
			fields.OneTermEqualSelector("involvedObject.kind", "Pod"),
			fields.OneTermEqualSelector("reason", reason),
		).String()
		inf := coreinformers.NewFilteredEventInformer(s.client, metav1.NamespaceAll, 0,
			cache.Indexers{byContainer: indexByContainer},
			func(o *metav1.ListOptions) { o.FieldSelector = selector })
		_ = inf.SetTransform(eventTransform(s.regs))
		regs[i], _ = inf.AddEventHandler(pulls.handler())
		infs[i] = inf
	}
	return infs, func() bool {
		for _, r := range regs {
			if !r.HasSynced() {
				return false
			}
		}
		return true
	}
}

// allReady passes Ready on once every watch of the term has listed and the handlers have seen
// the lists, so the first cycle is whole.
type allReady struct {
	statereceiver.Term
	ctx     context.Context
	handled []cache.InformerSynced
	left    atomic.Int32
}

func (a *allReady) Ready() {
	if a.left.Add(-1) == 0 {
		go func() {
			if cache.WaitForCacheSync(a.ctx.Done(), a.handled...) {
				a.Term.Ready()
			}
		}()
	}
}

// Collect reports the term's failing and slow pulls and its pull counters. A watch that has not
// listed fails the cycle; the other one's series are still emitted.
func (s *imagePullSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	var (
		podErr, eventErr       error
		podsReady, eventsReady bool
		eventIndex             []cache.SharedIndexInformer
	)
	if s.cfg.watchesPods() {
		_, podErr = s.pods.Wait(ctx, s.cfg.SyncTimeout)
	}
	if s.cfg.watchesEvents() {
		eventIndex, eventErr = s.events.Wait(ctx, s.cfg.SyncTimeout)
	}
	// Stored before the informers ran: the term whose informers Wait answered for.
	st := s.term.Load()
	if st == nil || ctx.Err() != nil {
		return pmetric.NewMetrics(), errors.Join(podErr, eventErr, ctx.Err(), errNotLeading(st))
	}
	if s.cfg.watchesPods() && podErr == nil {
		podsReady = s.handled(ctx, "pods", st.podsHandled, &podErr)
	}
	if s.cfg.watchesEvents() && eventErr == nil {
		eventsReady = s.handled(ctx, "pod image events", st.eventsHandled, &eventErr)
	}
	now := s.now()
	ts := pcommon.NewTimestampFromTime(now)
	if !st.start.Equal(s.mbStart) {
		s.mb.Reset(metadata.WithStartTime(pcommon.NewTimestampFromTime(st.start)))
		s.mbStart = st.start
	}
	if podsReady {
		s.recordPods(st.pods, eventIndex, now, ts)
	}
	var hist pmetric.Metric
	if eventsReady {
		s.logStartingPoint(st)
		if s.bounds != nil {
			hist = newDurationHistogram()
		}
		st.pulls.record(s.mb, hist, pcommon.NewTimestampFromTime(st.start), ts)
	}
	md := s.mb.Emit()
	if hist != (pmetric.Metric{}) && hist.Histogram().DataPoints().Len() > 0 {
		hist.MoveTo(s.scope(md).Metrics().AppendEmpty())
	}
	return md, errors.Join(podErr, eventErr)
}

func errNotLeading(st *termState) error {
	if st == nil {
		return errors.New("the leadership term has not started")
	}
	return nil
}

// handled waits at most sync_timeout for the term's handlers to have seen the first list (the
// informers have); err says why not.
func (s *imagePullSource) handled(ctx context.Context, what string, synced cache.InformerSynced, err *error) bool {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SyncTimeout)
	defer cancel()
	if cache.WaitForCacheSync(ctx.Done(), synced) {
		return true
	}
	*err = fmt.Errorf("%s: listed, but not all handed to the receiver within %s", what, s.cfg.SyncTimeout)
	return false
}

// recordPods writes a failure series per failing container and a slow series per pull running
// past the threshold.
func (s *imagePullSource) recordPods(pods *podTracker, eventIndex []cache.SharedIndexInformer, now time.Time, ts pcommon.Timestamp) {
	pods.each(func(p *pod, c *waitingContainer, class string, since time.Time) {
		if class != "" {
			s.mb.RecordImagePullFailuresDataPoint(ts, 1, p.namespace, p.name, p.node, c.registry, c.image, class, c.name)
			return
		}
		start, pulling := pullStart(eventIndex, p.uid, c, since)
		if age := now.Sub(start); pulling && age >= s.cfg.SlowPullThreshold {
			s.mb.RecordImagePullSlowDataPoint(ts, age.Seconds(), p.namespace, p.name, p.node, c.registry, c.image, c.name)
		}
	})
}

// pullStart says whether a waiting container is pulling and since when. The kubelet's latest
// image event for the container decides: Pulling means a pull runs since then; Pulled, Failed or
// BackOff mean none does. Without any event (expired, or not readable), the predecessor's rule
// applies: waiting in ContainerCreating counts as pulling since this term first saw it.
func pullStart(eventIndex []cache.SharedIndexInformer, podUID types.UID, c *waitingContainer, since time.Time) (time.Time, bool) {
	var latest *pullEvent
	key := containerKey(podUID, c.name)
	for _, inf := range eventIndex {
		objs, _ := inf.GetIndexer().ByIndex(byContainer, key)
		for _, o := range objs {
			e := o.(*pullEvent)
			// On a tie (timestamps have whole seconds in the core/v1 form) the outcome wins over
			// the start: a pull cannot end before it began.
			if latest == nil || e.last > latest.last || (e.last == latest.last && latest.kind == kindPulling) {
				latest = e
			}
		}
	}
	switch {
	case latest == nil:
		return since, c.creating
	case latest.kind == kindPulling:
		return time.Unix(0, latest.last), true
	default:
		return time.Time{}, false
	}
}

// logStartingPoint says once per term how many existing events were taken as the starting point.
func (s *imagePullSource) logStartingPoint(st *termState) {
	if st.logged.Swap(true) {
		return
	}
	st.pulls.mu.Lock()
	n := st.pulls.baseline
	st.pulls.mu.Unlock()
	s.set.Logger.Info("image events listed; pulls are counted from here on", zap.Int("existing_events", n))
}

// scope returns md's scope of this receiver, adding it when the builder emitted nothing.
func (s *imagePullSource) scope(md pmetric.Metrics) pmetric.ScopeMetrics {
	if md.ResourceMetrics().Len() > 0 {
		return md.ResourceMetrics().At(0).ScopeMetrics().At(0)
	}
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	sm.Scope().SetVersion(s.set.BuildInfo.Version)
	return sm
}

func (*imagePullSource) Shutdown(context.Context) error { return nil }
