package envoverrideconverter // import "github.com/labring/otelcol-sealos/confmap/converter/envoverrideconverter"

import (
	"fmt"
	"strconv"
	"strings"
)

// typed converts the variable's text to the type of the value it replaces. The collector decodes
// config strictly (no string → int or bool), so `5` must become an int where the file had an int;
// strings stay strings (durations such as `1m` are decoded by the component's config as usual).
// A list is comma-separated. Errors never repeat the value: it may be a secret.
func typed(o override, old any) (any, error) {
	switch old := old.(type) {
	case []any:
		if strings.TrimSpace(o.value) == "" {
			return []any{}, nil
		}
		parts := strings.Split(o.value, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			var elem any
			if len(old) > 0 {
				elem = old[0]
			}
			v, err := scalar(strings.TrimSpace(p), elem)
			if err != nil {
				return nil, fmt.Errorf("%s: list item %d: %w", o.name, i+1, err)
			}
			out[i] = v
		}
		return out, nil
	case map[string]any:
		return nil, fmt.Errorf("%s: the key holds a map; override its keys instead (%s__<KEY>)", o.name, o.name)
	default:
		v, err := scalar(o.value, old)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.name, err)
		}
		return v, nil
	}
}

// scalar parses s as the type of like (the current value): bool, integer, float, or else a string.
func scalar(s string, like any) (any, error) {
	switch like.(type) {
	case bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("want true or false (the configuration has a boolean here)")
		}
		return b, nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
		return nil, fmt.Errorf("want a number (the configuration has an integer here)")
	case float32, float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("want a number (the configuration has a number here)")
		}
		return f, nil
	default:
		return s, nil
	}
}
