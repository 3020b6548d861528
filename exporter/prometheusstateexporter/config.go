package prometheusstateexporter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/resourcetotelemetry"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/config/confighttp"
)

// Config mirrors the contrib prometheus exporter's configuration where it applies, so an
// existing `prometheus:` block works after renaming the component.
type Config struct {
	confighttp.ServerConfig `mapstructure:",squash"`

	// Namespace prefixes every metric name (and target_info).
	Namespace string `mapstructure:"namespace"`
	// ConstLabels are added to every series (not to target_info, as in contrib).
	ConstLabels map[string]string `mapstructure:"const_labels"`
	// SendTimestamps writes each data point's timestamp on its lines.
	SendTimestamps bool `mapstructure:"send_timestamps"`
	// MetricExpiration drops series not updated for this long.
	MetricExpiration time.Duration `mapstructure:"metric_expiration"`
	// ResourceToTelemetrySettings copies resource attributes onto every series.
	ResourceToTelemetrySettings resourcetotelemetry.Settings `mapstructure:"resource_to_telemetry_conversion"`
	// EnableOpenMetrics is accepted for compatibility; only `false` is supported (text 0.0.4).
	EnableOpenMetrics bool `mapstructure:"enable_open_metrics"`
	// WithoutScopeInfo drops the otel_scope_* labels.
	WithoutScopeInfo bool `mapstructure:"without_scope_info"`
	// AddMetricSuffixes is contrib's deprecated switch; it only applies when contrib's
	// feature gate exporter.prometheusexporter.DisableAddMetricSuffixes is disabled.
	AddMetricSuffixes bool `mapstructure:"add_metric_suffixes"`
	// TranslationStrategy: UnderscoreEscapingWithSuffixes (default) or
	// UnderscoreEscapingWithoutSuffixes. The UTF-8 strategies are not supported.
	TranslationStrategy string `mapstructure:"translation_strategy"`
}

// minMetricExpiration: the expiry ticker runs every metric_expiration, so `metric_expiration: 300`
// (300ns) would sweep the store without pause and spin a core.
const minMetricExpiration = time.Second

const (
	strategyWithSuffixes    = "UnderscoreEscapingWithSuffixes"
	strategyWithoutSuffixes = "UnderscoreEscapingWithoutSuffixes"
)

// Validate reports bad settings, naming the key.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.NetAddr.Endpoint) == "" {
		errs = append(errs, errors.New("endpoint: must not be empty"))
	}
	if c.MetricExpiration < minMetricExpiration {
		errs = append(errs, metricExpirationError(c.MetricExpiration))
	}
	if c.EnableOpenMetrics {
		errs = append(errs, errors.New("enable_open_metrics: OpenMetrics is not supported by prometheus_state (it serves text format 0.0.4); use the prometheus exporter for exemplars"))
	}
	switch c.TranslationStrategy {
	case "", strategyWithSuffixes, strategyWithoutSuffixes:
	case "NoUTF8EscapingWithSuffixes", "NoTranslation":
		errs = append(errs, fmt.Errorf("translation_strategy: %s (UTF-8 names) is not supported by prometheus_state; use %s or %s", c.TranslationStrategy, strategyWithSuffixes, strategyWithoutSuffixes))
	default:
		errs = append(errs, fmt.Errorf("translation_strategy: invalid value %q", c.TranslationStrategy))
	}
	for name := range c.ConstLabels {
		if !model.LegacyValidation.IsValidLabelName(name) || strings.HasPrefix(name, model.ReservedLabelPrefix) {
			errs = append(errs, fmt.Errorf("const_labels: invalid label name %q", name))
		}
	}
	return errors.Join(errs...)
}

func metricExpirationError(d time.Duration) error {
	err := fmt.Errorf("metric_expiration: must be at least %s, got %s", minMetricExpiration, d)
	if d > 0 && d < time.Microsecond {
		// Most likely a bare number, which decodes as nanoseconds.
		return fmt.Errorf("%w; a number without a unit is nanoseconds: use a unit, e.g. %ds", err, int64(d))
	}
	return err
}
