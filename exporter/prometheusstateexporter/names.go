package prometheusstateexporter

import (
	"fmt"
	"strings"
	"sync"

	prometheustranslator "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheus"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// contribSuffixGate is contrib's gate that makes the deprecated add_metric_suffixes ignored
// (beta, on by default). We read it from the registry, when contrib registered it, rather than
// importing the contrib exporter.
const contribSuffixGate = "exporter.prometheusexporter.DisableAddMetricSuffixes"

// namer translates OTel metric and attribute names exactly as the contrib exporter does.
type namer struct {
	metric otlptranslator.MetricNamer
	label  otlptranslator.LabelNamer

	mu          sync.RWMutex
	metricNames map[otlptranslator.Metric]nameResult
	labelNames  map[string]nameResult
}

type nameResult struct {
	name string
	err  error
}

// maxCachedNames bounds the name caches (names are few; this only guards against abuse).
const maxCachedNames = 100_000

func newNamer(cfg *Config) *namer {
	return &namer{
		metric: otlptranslator.MetricNamer{
			WithMetricSuffixes: withSuffixes(cfg),
			Namespace:          cfg.Namespace,
			UTF8Allowed:        false,
		},
		label: otlptranslator.LabelNamer{
			UTF8Allowed:                 false,
			PreserveMultipleUnderscores: !prometheustranslator.DropSanitizationGate.IsEnabled(),
		},
		metricNames: map[otlptranslator.Metric]nameResult{},
		labelNames:  map[string]nameResult{},
	}
}

func withSuffixes(cfg *Config) bool {
	switch cfg.TranslationStrategy {
	case strategyWithSuffixes:
		return true
	case strategyWithoutSuffixes:
		return false
	}
	gateOn := true // the gate is beta: enabled unless someone disabled it
	featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
		if g.ID() == contribSuffixGate {
			gateOn = g.IsEnabled()
		}
	})
	if gateOn {
		return true
	}
	return cfg.AddMetricSuffixes
}

// translatorMetric is prometheusremotewrite.TranslatorMetricFromOtelMetric (not imported: it
// would pull all of Prometheus into the distribution's exporter).
func translatorMetric(m pmetric.Metric) otlptranslator.Metric {
	tm := otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: otlptranslator.MetricTypeUnknown}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		tm.Type = otlptranslator.MetricTypeGauge
	case pmetric.MetricTypeSum:
		if m.Sum().IsMonotonic() {
			tm.Type = otlptranslator.MetricTypeMonotonicCounter
		} else {
			tm.Type = otlptranslator.MetricTypeNonMonotonicCounter
		}
	case pmetric.MetricTypeSummary:
		tm.Type = otlptranslator.MetricTypeSummary
	case pmetric.MetricTypeHistogram:
		tm.Type = otlptranslator.MetricTypeHistogram
	case pmetric.MetricTypeExponentialHistogram:
		tm.Type = otlptranslator.MetricTypeExponentialHistogram
	}
	return tm
}

func (n *namer) metricName(m pmetric.Metric) (string, error) {
	key := translatorMetric(m)
	n.mu.RLock()
	r, ok := n.metricNames[key]
	n.mu.RUnlock()
	if ok {
		return r.name, r.err
	}
	r.name, r.err = n.metric.Build(key)
	if r.err == nil && r.name == "" {
		r.err = fmt.Errorf("metric %q translates to an empty name", m.Name())
	}
	n.mu.Lock()
	if len(n.metricNames) < maxCachedNames {
		n.metricNames[key] = r
	}
	n.mu.Unlock()
	return r.name, r.err
}

func (n *namer) labelName(attr string) (string, error) {
	n.mu.RLock()
	r, ok := n.labelNames[attr]
	n.mu.RUnlock()
	if ok {
		return r.name, r.err
	}
	r.name, r.err = n.label.Build(attr)
	n.mu.Lock()
	if len(n.labelNames) < maxCachedNames {
		n.labelNames[strings.Clone(attr)] = r
	}
	n.mu.Unlock()
	return r.name, r.err
}

// namespace is the prefix contrib puts before target_info.
func (n *namer) namespace(cfgNamespace string) string {
	if cfgNamespace == "" {
		return ""
	}
	ns, err := n.label.Build(cfgNamespace)
	if err != nil {
		return ""
	}
	return ns
}
