// Package envoverrideconverter is a confmap converter that overrides config keys from
// environment variables named OTELCOL_<PATH>, where PATH is the keys joined by `__`.
//
//	OTELCOL_RECEIVERS__NODE__COLLECTION_INTERVAL=1m   receivers::node::collection_interval
//	OTELCOL_EXPORTERS__PROMETHEUS_FOO__ENDPOINT=:9091  exporters::prometheus/foo::endpoint
//	OTELCOL_SERVICE__PIPELINES__METRICS__RECEIVERS=node,otlp   a list
//
// Matching rule: a config key matches a PATH segment when the key, upper-cased and with every
// character other than A-Z and 0-9 replaced by `_`, equals the segment (upper-cased). Two keys
// matching one segment, or none, is an error naming the variable. Only variables with `__` in
// their name are overrides (a top-level key is always a map), so OTELCOL_SEALOS_* settings are not.
//
// Converters run after the files are merged and ${...} references expanded, on every resolve:
// the override wins over every file and `--set`, at start and on every reload.
package envoverrideconverter // import "github.com/labring/otelcol-sealos/confmap/converter/envoverrideconverter"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

// Prefix of every override variable.
const Prefix = "OTELCOL_"

// separator joins the keys of a path in a variable name.
const separator = "__"

// NewFactory returns the converter factory used by the distribution.
func NewFactory() confmap.ConverterFactory {
	return confmap.NewConverterFactory(func(set confmap.ConverterSettings) confmap.Converter {
		return &converter{logger: set.Logger, environ: os.Environ}
	})
}

type converter struct {
	logger  *zap.Logger
	environ func() []string
}

type override struct {
	name, value string
	segments    []string
}

// overrides lists OTELCOL_*__* variables, sorted by name so errors and logs are stable.
func overrides(environ []string) []override {
	var out []override
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, Prefix) || !strings.Contains(name, separator) {
			continue
		}
		out = append(out, override{name: name, value: value, segments: strings.Split(name[len(Prefix):], separator)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (c *converter) Convert(_ context.Context, conf *confmap.Conf) error {
	var errs []error
	for _, o := range overrides(c.environ()) {
		key, old, err := resolvePath(conf.ToStringMap(), o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v, err := typed(o, old)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Delete first: with the merge-append feature gate a merged list would be appended to.
		conf.Delete(key)
		if err := conf.Merge(confmap.NewFromStringMap(nest(strings.Split(key, confmap.KeyDelimiter), v))); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.name, err))
			continue
		}
		if c.logger != nil {
			// The name and key only: the value may be a secret.
			c.logger.Info("Config key overridden from the environment", zap.String("variable", o.name), zap.String("key", key))
		}
	}
	return errors.Join(errs...)
}

// resolvePath finds the existing key each segment names; it returns the confmap key (keys joined
// by "::") and the current value.
func resolvePath(m map[string]any, o override) (string, any, error) {
	var keys []string
	var cur any = m
	for _, seg := range o.segments {
		here, ok := cur.(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("%s: no such config key: %q is not a map, it has no key %q", o.name, strings.Join(keys, confmap.KeyDelimiter), seg)
		}
		var matches []string
		for k := range here {
			if normalize(k) == strings.ToUpper(seg) {
				matches = append(matches, k)
			}
		}
		sort.Strings(matches)
		switch len(matches) {
		case 0:
			return "", nil, fmt.Errorf("%s: no such config key: nothing under %q matches %q (overrides change keys present in the configuration)", o.name, pathOrRoot(keys), seg)
		case 1:
		default:
			return "", nil, fmt.Errorf("%s: ambiguous: keys %s under %q all match %q", o.name, strings.Join(matches, ", "), pathOrRoot(keys), seg)
		}
		keys = append(keys, matches[0])
		cur = here[matches[0]]
	}
	return strings.Join(keys, confmap.KeyDelimiter), cur, nil
}

func pathOrRoot(keys []string) string {
	if len(keys) == 0 {
		return "(top level)"
	}
	return strings.Join(keys, confmap.KeyDelimiter)
}

// normalize maps a config key to the form a variable name can spell: `prometheus/foo` → PROMETHEUS_FOO.
func normalize(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, ch := range b {
		if (ch < 'A' || ch > 'Z') && (ch < '0' || ch > '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func nest(keys []string, v any) map[string]any {
	m := map[string]any{keys[len(keys)-1]: v}
	for i := len(keys) - 2; i >= 0; i-- {
		m = map[string]any{keys[i]: m}
	}
	return m
}
