package zombiereceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/labring/otelcol-sealos/internal/k8swatch"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/zombiereceiver/internal/metadata"
)

const (
	// hostLabel is the container (or container_id) of zombies outside any container.
	hostLabel = "host"
	// unknownLabel is the container_id of zombies in a pod's cgroup that names neither a container
	// nor a pod the node has.
	unknownLabel = "unknown"
)

// zombieSource scans the node's processes each cycle and, with API access, attributes each zombie
// to its pod through an informer on the node's pods.
type zombieSource struct {
	cfg     *Config
	set     receiver.Settings
	mb      *metadata.MetricsBuilder
	scanner *scanner
	watch   *k8swatch.Watch
	client  kubernetes.Interface
}

func newZombieSource(cfg *Config, set receiver.Settings) *zombieSource {
	return &zombieSource{
		cfg:     cfg,
		set:     set,
		mb:      metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
		scanner: &scanner{path: cfg.procPath(), parentCommand: cfg.ParentCommand},
		watch:   k8swatch.New("pods"),
	}
}

func (s *zombieSource) Start(context.Context, component.Host) error {
	if !s.cfg.usesAPI() {
		return nil
	}
	client, _, err := s.cfg.Client("otelcol-sealos/" + s.set.ID.String())
	s.client = client
	return err
}

// Lead watches the node's pods; without API access there is nothing to wait for.
func (s *zombieSource) Lead(ctx context.Context, term statereceiver.Term) {
	if s.client == nil {
		term.Ready()
		<-ctx.Done()
		return
	}
	onNode := fields.OneTermEqualSelector("spec.nodeName", s.cfg.NodeName).String()
	factory := informers.NewSharedInformerFactoryWithOptions(s.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = onNode }),
		informers.WithTransform(stripPod))
	s.watch.Run(ctx, term, k8swatch.VersionProbe(s.client.Discovery().RESTClient()), factory.Core().V1().Pods().Informer())
}

// group is one series: where its zombies are, and their parent's command when asked for.
type group struct {
	namespace, pod, container, containerID, parentComm string
}

type groupStats struct {
	count  int64
	oldest time.Duration
}

// Collect scans now. Processes that could not be read, or pods that are not listed, fail the cycle
// while the zombies found are still reported (without pods: by container ID, as without API
// access).
func (s *zombieSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	now := time.Now()
	zombies, skipped, err := s.scanner.scan(now)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	var (
		pods   *podIndex
		podErr error
	)
	if s.client != nil {
		infs, err := s.watch.Wait(ctx, s.cfg.SyncTimeout)
		if err != nil {
			podErr = fmt.Errorf("pods of node %s: %w; zombies are reported by container ID until they are listed", s.cfg.NodeName, err)
		} else {
			idx := newPodIndex(infs[0].GetStore().List())
			pods = &idx
		}
	}
	groups := map[group]*groupStats{}
	for _, z := range zombies {
		g := groupOf(z, pods)
		st := groups[g]
		if st == nil {
			st = &groupStats{}
			groups[g] = st
		}
		st.count++
		st.oldest = max(st.oldest, z.age)
	}
	ts := pcommon.NewTimestampFromTime(now)
	node := s.cfg.NodeName
	hostSeen := false
	for g, st := range groups {
		hostSeen = hostSeen || g.container == hostLabel || g.containerID == hostLabel
		s.mb.RecordZombieProcessesTotalDataPoint(ts, st.count, node, g.options()...)
		s.mb.RecordZombieOldestDataPoint(ts, st.oldest.Seconds(), node, g.options()...)
	}
	if !hostSeen { // the host's 0: every node has a series, so sum by (node) shows healthy ones too
		s.mb.RecordZombieProcessesTotalDataPoint(ts, 0, node, groupOf(zombie{}, pods).options()...)
	}
	return s.mb.Emit(), errors.Join(skipped, podErr)
}

// groupOf labels a zombie: with the node's pods, by namespace, pod and container name (a container
// no pod lists falls back to its ID); without them, by container ID.
func groupOf(z zombie, pods *podIndex) group {
	g := group{parentComm: z.parentComm}
	p := z.placement
	if pods != nil {
		if c, ok := pods.containers[p.containerID]; ok && p.containerID != "" {
			g.namespace, g.pod, g.container = c.pod.namespace, c.pod.name, c.name
			return g
		}
		if pod, ok := pods.pods[types.UID(p.podUID)]; ok && p.podUID != "" {
			g.namespace, g.pod = pod.namespace, pod.name // the pod's own cgroup or a container not in its status yet
			return g
		}
		if !p.known() {
			g.container = hostLabel
			return g
		}
	}
	switch {
	case p.containerID != "":
		g.containerID = p.containerID
	case p.podUID != "":
		g.containerID = unknownLabel
	default:
		g.containerID = hostLabel
	}
	return g
}

func (g group) options() []metadata.MetricAttributeOption {
	var opts []metadata.MetricAttributeOption
	for _, a := range []struct {
		value string
		with  func(string) metadata.MetricAttributeOption
	}{
		{g.namespace, metadata.WithNamespaceMetricAttribute},
		{g.pod, metadata.WithPodMetricAttribute},
		{g.container, metadata.WithContainerMetricAttribute},
		{g.containerID, metadata.WithContainerIDMetricAttribute},
		{g.parentComm, metadata.WithParentCommandMetricAttribute},
	} {
		if a.value != "" {
			opts = append(opts, a.with(a.value))
		}
	}
	return opts
}

func (*zombieSource) Shutdown(context.Context) error { return nil }
