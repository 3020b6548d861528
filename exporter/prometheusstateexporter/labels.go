package prometheusstateexporter

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Resource and scope handling, as contrib's collector.go / utils.go do it.

const (
	attrServiceName      = "service.name"
	attrServiceNamespace = "service.namespace"
	attrServiceInstance  = "service.instance.id"
)

func extractJob(res pcommon.Map) (string, bool) {
	name, ok := res.Get(attrServiceName)
	if !ok {
		return "", false
	}
	job := name.AsString()
	if ns, ok := res.Get(attrServiceNamespace); ok {
		job = ns.AsString() + "/" + job
	}
	return job, true
}

func extractInstance(res pcommon.Map) (string, bool) {
	inst, ok := res.Get(attrServiceInstance)
	if !ok {
		return "", false
	}
	return inst.AsString(), true
}

// jobInstanceLabels are the job/instance labels every series of a resource carries.
func jobInstanceLabels(res pcommon.Map) []labelPair {
	var out []labelPair
	if job, ok := extractJob(res); ok {
		out = append(out, labelPair{model.JobLabel, job})
	}
	if inst, ok := extractInstance(res); ok {
		out = append(out, labelPair{model.InstanceLabel, inst})
	}
	return out
}

// scopeLabels are the otel_scope_* labels (none when without_scope_info).
func (n *namer) scopeLabels(name, version, schemaURL string, attrs pcommon.Map) ([]labelPair, error) {
	out := make([]labelPair, 0, attrs.Len()+3)
	var errs []error
	for k, v := range attrs.All() {
		switch k {
		case "name", "version", "schema_url": // reserved: contrib skips them
			continue
		}
		ln, err := n.labelName("otel_scope_" + k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, labelPair{ln, v.AsString()})
	}
	out = append(out,
		labelPair{"otel_scope_name", name},
		labelPair{"otel_scope_version", version},
		labelPair{"otel_scope_schema_url", schemaURL})
	return out, errors.Join(errs...)
}

// seriesLabels builds the sorted label set of a data point into buf, checked as client_golang
// checks a metric description (reserved or duplicate names, invalid UTF-8 values).
func (n *namer) seriesLabels(buf []labelPair, attrs pcommon.Map, fixed ...[]labelPair) ([]labelPair, error) {
	buf = buf[:0]
	for k, v := range attrs.All() {
		ln, err := n.labelName(k)
		if err != nil {
			return buf, err
		}
		buf = append(buf, labelPair{ln, v.AsString()})
	}
	for _, f := range fixed {
		buf = append(buf, f...)
	}
	return buf, checkLabels(buf)
}

func checkLabels(labels []labelPair) error {
	slices.SortFunc(labels, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	for i, l := range labels {
		if strings.HasPrefix(l.name, model.ReservedLabelPrefix) {
			return fmt.Errorf("label name %q is reserved", l.name)
		}
		if i > 0 && labels[i-1].name == l.name {
			return fmt.Errorf("duplicate label name %q", l.name)
		}
		if !utf8.ValidString(l.value) {
			return fmt.Errorf("label %q has an invalid UTF-8 value", l.name)
		}
	}
	return nil
}

// targetInfoLabels are contrib's target_info labels: resource attributes but the service ones,
// values of attributes that translate to the same name joined with ";", plus job and instance.
func (n *namer) targetInfoLabels(res pcommon.Map) ([]labelPair, error) {
	byName := map[string]string{}
	for k, v := range res.All() {
		switch k {
		case attrServiceName, attrServiceNamespace, attrServiceInstance:
			continue
		}
		ln, err := n.labelName(k)
		if err != nil {
			return nil, err
		}
		if old, ok := byName[ln]; ok {
			byName[ln] = old + ";" + v.AsString()
		} else {
			byName[ln] = v.AsString()
		}
	}
	for _, l := range jobInstanceLabels(res) {
		byName[l.name] = l.value
	}
	out := make([]labelPair, 0, len(byName))
	for k, v := range byName {
		out = append(out, labelPair{k, v})
	}
	return out, checkLabels(out)
}

// origin identifies a producer (resource and scope), to count two producers writing the same
// series.
func origin(res pcommon.Map, scopeName, scopeVersion, schemaURL string, scopeAttrs pcommon.Map) uint64 {
	h := fnv.New64a()
	write := func(s string) {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0xff})
	}
	for k, v := range res.All() {
		write(k)
		write(v.AsString())
	}
	write(scopeName)
	write(scopeVersion)
	write(schemaURL)
	for k, v := range scopeAttrs.All() {
		write(k)
		write(v.AsString())
	}
	return h.Sum64()
}
