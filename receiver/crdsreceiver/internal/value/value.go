// Package value turns a field of a custom object into a number.
package value

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// ErrMissing is returned for a nil or absent field.
var ErrMissing = errors.New("field is missing")

// Parse converts v, in this order:
//   - numbers as they are; booleans → 1/0;
//   - strings: "true"/"yes" → 1, "false"/"no" → 0 (any case); a plain number ("42", "-1.5e3");
//     a percentage ("50%" → 0.5); an RFC 3339 time (Unix seconds, fractions kept); a Go duration
//     with a unit other than a bare "m" ("1h30m", "90s", "250ms" → seconds); a Kubernetes
//     quantity ("500m" → 0.5, "2Gi" → 2147483648).
//
// "250m" is a quantity (0.25), not 250 minutes: write "250m0s" or "4h10m" for a duration.
// NaN and infinities are errors: they cannot be told apart from broken data.
func Parse(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, ErrMissing
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case float64:
		return finite(x)
	case float32:
		return finite(float64(x))
	case string:
		return parseString(x)
	default:
		return 0, fmt.Errorf("a %s is not a number", kind(v))
	}
}

func finite(f float64) (float64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%v is not a finite number", f)
	}
	return f, nil
}

func parseString(s string) (float64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "true", "yes":
		return 1, nil
	case "false", "no":
		return 0, nil
	case "":
		return 0, errors.New("empty string is not a number")
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return finite(f)
	}
	if strings.HasSuffix(t, "%") {
		f, err := strconv.ParseFloat(strings.TrimSpace(t[:len(t)-1]), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a percentage", s)
		}
		return finite(f / 100)
	}
	if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return float64(ts.UnixNano()) / 1e9, nil
	}
	if q, err := resource.ParseQuantity(t); err == nil {
		return finite(q.AsApproximateFloat64())
	}
	if d, err := time.ParseDuration(t); err == nil {
		return d.Seconds(), nil
	}
	return 0, fmt.Errorf("%q is not a number, boolean, percentage, RFC 3339 time, quantity or duration", truncate(s))
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "map"
	case []any:
		return "list"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
