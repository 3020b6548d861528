package nodereceiver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/labring/otelcol-sealos/internal/k8swatch"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/nodereceiver/internal/metadata"
)

// apiTimeout bounds single API requests made during a cycle.
const apiTimeout = 10 * time.Second

// nodeSource watches Nodes while leading and turns the cached nodes into metrics each cycle.
type nodeSource struct {
	cfg *Config
	set receiver.Settings
	mb  *metadata.MetricsBuilder
	now func() time.Time

	client  kubernetes.Interface
	metrics metricsclient.Interface // nil unless node.kubelet_metrics_available is enabled
	nodes   *k8swatch.Watch         // the node informer of the current leadership term
}

func newNodeSource(cfg *Config, set receiver.Settings) *nodeSource {
	return &nodeSource{cfg: cfg, set: set, mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set), now: time.Now, nodes: k8swatch.New("nodes")}
}

func (s *nodeSource) Start(context.Context, component.Host) error {
	client, rc, err := s.cfg.Client("otelcol-sealos/" + s.set.ID.String())
	if err != nil {
		return err
	}
	s.client = client
	if s.cfg.Metrics.NodeKubeletMetricsAvailable.Enabled {
		if s.metrics, err = metricsclient.NewForConfig(rc); err != nil {
			return fmt.Errorf("metrics.k8s.io client: %w", err)
		}
	}
	return nil
}

// Lead runs a node informer for one leadership term; informers cannot be restarted, so each
// term builds its own.
func (s *nodeSource) Lead(ctx context.Context, term statereceiver.Term) {
	factory := informers.NewSharedInformerFactoryWithOptions(s.client, 0, informers.WithTransform(stripNode))
	s.nodes.Run(ctx, term, k8swatch.VersionProbe(s.client.Discovery().RESTClient()), factory.Core().V1().Nodes().Informer())
}

func (s *nodeSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	nodes, err := s.cachedNodes(ctx)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	now := s.now()
	ts := pcommon.NewTimestampFromTime(now)
	var ready []string
	for _, n := range nodes {
		if s.cfg.IgnoreNewNodeDuration > 0 && now.Sub(n.CreationTimestamp.Time) < s.cfg.IgnoreNewNodeDuration {
			continue
		}
		s.recordNode(ts, n)
		if isReady(n.Status.Conditions) {
			ready = append(ready, n.Name)
		}
	}
	if s.metrics != nil {
		err = s.recordKubeletMetrics(ctx, ts, ready)
	}
	return s.mb.Emit(), err
}

func (s *nodeSource) recordNode(ts pcommon.Timestamp, n *corev1.Node) {
	ok := healthy(n.Status.Conditions)
	s.mb.RecordNodeHealthyDataPoint(ts, boolValue(ok), n.Name)
	for _, c := range n.Status.Conditions {
		status := conditionStatus(c.Status)
		switch {
		case s.cfg.ReportAllConditions:
			for _, st := range allStatuses {
				s.mb.RecordNodeConditionDataPoint(ts, boolValue(st == status), n.Name, string(c.Type), st)
			}
		case !ok && abnormal(c):
			s.mb.RecordNodeConditionDataPoint(ts, boolValue(status == metadata.AttributeStatusTrue), n.Name, string(c.Type), status)
		}
	}
}

// recordKubeletMetrics reports, for each Ready node, whether metrics-server has its metrics.
func (s *nodeSource) recordKubeletMetrics(ctx context.Context, ts pcommon.Timestamp, ready []string) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	list, err := s.metrics.MetricsV1beta1().NodeMetricses().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return fmt.Errorf("node.kubelet_metrics_available: cannot list metrics.k8s.io/v1beta1 NodeMetrics (is metrics-server installed?): %w", err)
	}
	reported := make(map[string]bool, len(list.Items))
	for _, m := range list.Items {
		reported[m.Name] = true
	}
	for _, name := range ready {
		s.mb.RecordNodeKubeletMetricsAvailableDataPoint(ts, boolValue(reported[name]), name)
	}
	return nil
}

// cachedNodes returns the informer's nodes sorted by name, waiting up to sync_timeout for the
// informer of this leadership term to hold a full list.
func (s *nodeSource) cachedNodes(ctx context.Context) ([]*corev1.Node, error) {
	informers, err := s.nodes.Wait(ctx, s.cfg.SyncTimeout)
	if err != nil {
		return nil, err
	}
	objs := informers[0].GetStore().List()
	nodes := make([]*corev1.Node, 0, len(objs))
	for _, o := range objs {
		nodes = append(nodes, o.(*corev1.Node))
	}
	slices.SortFunc(nodes, func(a, b *corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	return nodes, nil
}

func (*nodeSource) Shutdown(context.Context) error { return nil }

// stripNode keeps only what the receiver reads, so the cache stays small on large clusters.
func stripNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil // a deletion tombstone
	}
	conds := make([]corev1.NodeCondition, len(n.Status.Conditions))
	for i, c := range n.Status.Conditions {
		conds[i] = corev1.NodeCondition{Type: c.Type, Status: c.Status}
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion, CreationTimestamp: n.CreationTimestamp},
		Status:     corev1.NodeStatus{Conditions: conds},
	}, nil
}

var allStatuses = []metadata.AttributeStatus{metadata.AttributeStatusTrue, metadata.AttributeStatusFalse, metadata.AttributeStatusUnknown}

func conditionStatus(s corev1.ConditionStatus) metadata.AttributeStatus {
	switch s {
	case corev1.ConditionTrue:
		return metadata.AttributeStatusTrue
	case corev1.ConditionFalse:
		return metadata.AttributeStatusFalse
	default:
		return metadata.AttributeStatusUnknown
	}
}

func boolValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
