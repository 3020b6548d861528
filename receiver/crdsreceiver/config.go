package crdsreceiver

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/crdsreceiver/internal/fieldpath"
	"github.com/labring/otelcol-sealos/receiver/crdsreceiver/internal/metadata"
)

// Config is the crds receiver's configuration. Keys are the predecessor's, in snake_case
// (commonLabels → common_labels, valueLabel → value_label, ...): see README.md.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	k8sconfig.APIConfig           `mapstructure:",squash"`

	// MetricPrefix is put before every configured metric name (the predecessor hard-coded
	// "sealos_"; here the prometheus exporter's namespace adds it).
	MetricPrefix string `mapstructure:"metric_prefix"`
	// CRDs lists the resources to watch; empty is a valid no-op.
	CRDs []ResourceConfig `mapstructure:"crds"`
}

// ResourceConfig is one watched resource (the predecessor's CRDConfig).
type ResourceConfig struct {
	// Name identifies the resource in logs and in the self-metrics' resource attribute.
	Name string    `mapstructure:"name"`
	GVR  GVRConfig `mapstructure:"gvr"`
	// Namespaces limits the watch to these namespaces (one watch each); empty watches all.
	Namespaces []string `mapstructure:"namespaces"`
	// ResyncPeriod re-delivers every cached object this often; 0 (default) never does: series are
	// recomputed on every change anyway.
	ResyncPeriod time.Duration `mapstructure:"resync_period"`
	// CommonLabels (label → path) are added to every metric of this resource except count.
	CommonLabels map[string]string `mapstructure:"common_labels"`
	Metrics      []MetricConfig    `mapstructure:"metrics"`
}

// GVRConfig is a group, version and (plural, lower-case) resource.
type GVRConfig struct {
	Group    string `mapstructure:"group"`
	Version  string `mapstructure:"version"`
	Resource string `mapstructure:"resource"`
}

// MetricConfig is one metric family of a resource.
type MetricConfig struct {
	Type MetricType `mapstructure:"type"`
	Name string     `mapstructure:"name"`
	Help string     `mapstructure:"help"`
	Path string     `mapstructure:"path"`
	// Labels (label → path): info labels; for count, extra grouping labels.
	Labels map[string]string `mapstructure:"labels"`
	// ValueLabel names the label carrying the value: count (default "value"), string_state and
	// map_state (default "state").
	ValueLabel string `mapstructure:"value_label"`
	// ValuePath is read inside each map entry (map_state, map_gauge); empty reads a scalar entry.
	ValuePath string `mapstructure:"value_path"`
	// KeyLabel names the map-key label of map_state and map_gauge (default "key").
	KeyLabel  string           `mapstructure:"key_label"`
	Condition *ConditionConfig `mapstructure:"condition"`
	// NilIsZero reports a missing gauge / map_gauge value as 0 instead of skipping it.
	NilIsZero bool `mapstructure:"nil_is_zero"`
}

// ConditionConfig names the fields of a Kubernetes-style condition (defaults type, status, reason).
// The labels carry the same names as the predecessor: type, status, reason.
type ConditionConfig struct {
	TypeField   string `mapstructure:"type_field"`
	StatusField string `mapstructure:"status_field"`
	ReasonField string `mapstructure:"reason_field"`
}

// MetricType is one of the seven metric types.
type MetricType string

// The metric types, with the predecessor's meanings (README.md).
const (
	TypeInfo        MetricType = "info"
	TypeGauge       MetricType = "gauge"
	TypeCount       MetricType = "count"
	TypeStringState MetricType = "string_state"
	TypeMapState    MetricType = "map_state"
	TypeMapGauge    MetricType = "map_gauge"
	TypeConditions  MetricType = "conditions"
)

var metricTypes = []MetricType{TypeInfo, TypeGauge, TypeCount, TypeStringState, TypeMapState, TypeMapGauge, TypeConditions}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	dnsLabelRE   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Validate reports every bad setting, naming its key path (crds[0].metrics[2].name: ...).
func (c *Config) Validate() error {
	errs := c.APIConfig.Check()
	if c.MetricPrefix != "" && !metricNameRE.MatchString(c.MetricPrefix) {
		errs = append(errs, fmt.Errorf("metric_prefix: %q is not a valid metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)", c.MetricPrefix))
	}
	if _, err := compile(c); err != nil {
		errs = append(errs, err)
	}
	return statereceiver.Validate(&c.Config, errs...)
}

// family is a validated metric: its full name, labels in emission order and parsed paths.
type family struct {
	name, help string
	typ        MetricType
	labels     []string // after the common labels (none for count)
	path       fieldpath.Path
	labelPaths []fieldpath.Path // info and count: one per labels entry, in the same order
	valuePath  fieldpath.Path
	cond       ConditionConfig
	nilIsZero  bool
	countIndex int // count families: index into objectSeries.countKeys
}

// resourceSpec is a validated resource.
type resourceSpec struct {
	cfg          ResourceConfig
	commonLabels []string // sorted, like the predecessor
	commonPaths  []fieldpath.Path
	families     []family
	// countFamilies is how many families are of type count.
	countFamilies int
}

// compile validates c and turns it into what the receiver runs. All errors are collected.
func compile(c *Config) ([]resourceSpec, error) {
	var errs []error
	errorf := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	parse := func(key, text string, allowEmpty bool) fieldpath.Path {
		if text == "" && !allowEmpty {
			errorf("%s: must not be empty", key)
			return fieldpath.Path{}
		}
		p, err := fieldpath.Parse(text)
		if err != nil {
			errorf("%s: %w", key, err)
		}
		return p
	}
	type seenFamily struct {
		key    string
		labels []string
	}
	seenFamilies := map[string]seenFamily{}
	seenResources := map[string]string{}
	specs := make([]resourceSpec, 0, len(c.CRDs))
	for i, rc := range c.CRDs {
		rkey := fmt.Sprintf("crds[%d]", i)
		spec := resourceSpec{cfg: rc}
		switch {
		case rc.Name == "":
			errorf("%s.name: must not be empty", rkey)
		case seenResources[rc.Name] != "":
			errorf("%s.name: %q is already used by %s", rkey, rc.Name, seenResources[rc.Name])
		default:
			seenResources[rc.Name] = rkey
		}
		if rc.GVR.Resource == "" {
			errorf("%s.gvr.resource: must not be empty (the plural, lower-case resource name, e.g. clusters)", rkey)
		} else if rc.GVR.Resource != strings.ToLower(rc.GVR.Resource) {
			errorf("%s.gvr.resource: %q must be the lower-case plural resource name (e.g. clusters), not the kind", rkey, rc.GVR.Resource)
		}
		if rc.GVR.Version == "" {
			errorf("%s.gvr.version: must not be empty", rkey)
		}
		for j, ns := range rc.Namespaces {
			if !dnsLabelRE.MatchString(ns) {
				errorf("%s.namespaces[%d]: %q is not a namespace name", rkey, j, ns)
			}
			if slices.Contains(rc.Namespaces[:j], ns) {
				errorf("%s.namespaces[%d]: %q is listed twice", rkey, j, ns)
			}
		}
		if rc.ResyncPeriod < 0 {
			errorf("%s.resync_period: must not be negative, got %s", rkey, rc.ResyncPeriod)
		}
		spec.commonLabels = sortedKeys(rc.CommonLabels)
		for _, l := range spec.commonLabels {
			lkey := fmt.Sprintf("%s.common_labels.%s", rkey, l)
			if !labelNameRE.MatchString(l) || strings.HasPrefix(l, "__") {
				errorf("%s: %q is not a valid label name", lkey, l)
			}
			spec.commonPaths = append(spec.commonPaths, parse(lkey, rc.CommonLabels[l], false))
		}
		for j, mc := range rc.Metrics {
			mkey := fmt.Sprintf("%s.metrics[%d]", rkey, j)
			f := compileMetric(mkey, c.MetricPrefix, mc, spec.commonLabels, errorf, parse)
			if f == nil {
				continue
			}
			all := f.labels
			if f.typ != TypeCount {
				all = append(slices.Clone(spec.commonLabels), f.labels...)
			}
			sortedAll := slices.Sorted(slices.Values(all))
			if prev, ok := seenFamilies[f.name]; ok {
				if strings.HasPrefix(prev.key, rkey+".") {
					errorf("%s.name: %q is already defined by %s", mkey, f.name, prev.key)
				} else if !slices.Equal(prev.labels, sortedAll) {
					errorf("%s.name: %q is also defined by %s with labels %v; here its labels are %v (a metric's label set must be the same everywhere)", mkey, f.name, prev.key, prev.labels, sortedAll)
				}
			} else {
				seenFamilies[f.name] = seenFamily{key: mkey, labels: sortedAll}
			}
			if f.typ == TypeCount {
				f.countIndex = spec.countFamilies
				spec.countFamilies++
			}
			spec.families = append(spec.families, *f)
		}
		specs = append(specs, spec)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return specs, nil
}

func compileMetric(mkey, prefix string, mc MetricConfig, common []string, errorf func(string, ...any), parse func(string, string, bool) fieldpath.Path) *family {
	f := &family{name: prefix + mc.Name, help: mc.Help, typ: mc.Type, nilIsZero: mc.NilIsZero}
	ok := true
	switch {
	case mc.Name == "":
		errorf("%s.name: must not be empty", mkey)
		ok = false
	case !metricNameRE.MatchString(f.name):
		errorf("%s.name: %q is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", mkey, f.name)
	}
	if !slices.Contains(metricTypes, mc.Type) {
		errorf("%s.type: %q is not one of %v", mkey, mc.Type, metricTypes)
		return nil
	}
	orDefault := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	// Which optional keys each type reads; a key set on a type that ignores it is a mistake.
	uses := map[string]bool{"path": mc.Type != TypeInfo, "labels": mc.Type == TypeInfo || mc.Type == TypeCount,
		"value_label": mc.Type == TypeCount || mc.Type == TypeStringState || mc.Type == TypeMapState,
		"key_label":   mc.Type == TypeMapState || mc.Type == TypeMapGauge, "value_path": mc.Type == TypeMapState || mc.Type == TypeMapGauge,
		"condition": mc.Type == TypeConditions, "nil_is_zero": mc.Type == TypeGauge || mc.Type == TypeMapGauge}
	set := map[string]bool{"path": mc.Path != "" && mc.Type == TypeInfo, "labels": len(mc.Labels) > 0, "value_label": mc.ValueLabel != "",
		"key_label": mc.KeyLabel != "", "value_path": mc.ValuePath != "", "condition": mc.Condition != nil, "nil_is_zero": mc.NilIsZero}
	for _, k := range sortedKeys(set) {
		if set[k] && !uses[k] {
			errorf("%s.%s: not used by type %s", mkey, k, mc.Type)
		}
	}
	if mc.Type != TypeInfo {
		f.path = parse(mkey+".path", mc.Path, false)
	}
	for _, l := range sortedKeys(mc.Labels) {
		f.labels = append(f.labels, l)
		f.labelPaths = append(f.labelPaths, parse(fmt.Sprintf("%s.labels.%s", mkey, l), mc.Labels[l], false))
	}
	switch mc.Type {
	case TypeCount:
		f.labels = append(f.labels, orDefault(mc.ValueLabel, "value"))
	case TypeStringState:
		f.labels = append(f.labels, orDefault(mc.ValueLabel, "state"))
	case TypeMapState:
		f.labels = append(f.labels, orDefault(mc.KeyLabel, "key"), orDefault(mc.ValueLabel, "state"))
		f.valuePath = parse(mkey+".value_path", mc.ValuePath, true)
	case TypeMapGauge:
		f.labels = append(f.labels, orDefault(mc.KeyLabel, "key"))
		f.valuePath = parse(mkey+".value_path", mc.ValuePath, true)
	case TypeConditions:
		cc := ConditionConfig{}
		if mc.Condition != nil {
			cc = *mc.Condition
		}
		f.cond = ConditionConfig{TypeField: orDefault(cc.TypeField, "type"), StatusField: orDefault(cc.StatusField, "status"), ReasonField: orDefault(cc.ReasonField, "reason")}
		f.labels = append(f.labels, "type", "status", "reason")
	}
	// Label names: valid, and each once (a common label may not be redefined by the metric).
	own := common
	if mc.Type == TypeCount {
		own = nil
	}
	for i, l := range f.labels {
		key := labelKey(mkey, mc, l)
		if !labelNameRE.MatchString(l) || strings.HasPrefix(l, "__") {
			errorf("%s: %q is not a valid label name", key, l)
			ok = false
		}
		if slices.Contains(own, l) {
			errorf("%s: label %q is defined twice (it is also a common label)", key, l)
			ok = false
		} else if slices.Contains(f.labels[:i], l) {
			errorf("%s: label %q is defined twice", key, l)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return f
}

// labelKey names the config key a type-specific label comes from.
func labelKey(mkey string, mc MetricConfig, l string) string {
	switch {
	case mc.Labels[l] != "":
		return mkey + ".labels." + l
	case mc.ValueLabel == l:
		return mkey + ".value_label"
	case mc.KeyLabel == l:
		return mkey + ".key_label"
	default:
		return mkey + ".type"
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
