package imagepullreceiver

import (
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/imagepullreceiver/internal/metadata"
)

// Config is the imagepull receiver's configuration.
type Config struct {
	statereceiver.Config          `mapstructure:",squash"`
	metadata.MetricsBuilderConfig `mapstructure:",squash"`
	k8sconfig.APIConfig           `mapstructure:",squash"`

	// SlowPullThreshold is how long a pull runs before image.pull.slow reports it.
	SlowPullThreshold time.Duration `mapstructure:"slow_pull_threshold"`
	// Registries selects the registries reported; empty: all of them.
	Registries RegistryFilter `mapstructure:"registries"`
	// DurationHistogram configures image.pull.duration (built outside mdatagen, which cannot
	// generate histograms at v0.155).
	DurationHistogram HistogramConfig `mapstructure:"duration_histogram"`
	// SyncTimeout bounds how long a cycle waits for the informers' first list.
	SyncTimeout time.Duration `mapstructure:"sync_timeout"`
}

// RegistryFilter keeps a registry if it matches an include pattern (or there are none) and no
// exclude pattern. Patterns are path.Match globs over the registry host[:port], case-insensitive.
type RegistryFilter struct {
	Include []string `mapstructure:"include"`
	Exclude []string `mapstructure:"exclude"`
}

// HistogramConfig is image.pull.duration's switch and bucket bounds.
type HistogramConfig struct {
	Enabled bool            `mapstructure:"enabled"`
	Buckets []time.Duration `mapstructure:"buckets"`
}

// defaultBuckets span a cache-warm pull (0.5 s) to a stuck one (30 min).
var defaultBuckets = []time.Duration{
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute,
}

// Validate reports every bad setting with its key.
func (c *Config) Validate() error {
	errs := c.APIConfig.Check()
	if c.SlowPullThreshold <= 0 {
		errs = append(errs, fmt.Errorf("slow_pull_threshold: must be positive, got %s", c.SlowPullThreshold))
	}
	if c.SyncTimeout <= 0 {
		errs = append(errs, fmt.Errorf("sync_timeout: must be positive, got %s", c.SyncTimeout))
	}
	errs = append(errs, checkPatterns("registries.include", c.Registries.Include)...)
	errs = append(errs, checkPatterns("registries.exclude", c.Registries.Exclude)...)
	b := c.DurationHistogram.Buckets
	if c.DurationHistogram.Enabled && len(b) == 0 {
		errs = append(errs, fmt.Errorf("duration_histogram.buckets: must list at least one bound, e.g. [1s, 10s, 1m]"))
	}
	for i, d := range b {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("duration_histogram.buckets[%d]: must be positive, got %s", i, d))
		}
	}
	if !slices.IsSorted(b) || len(slices.Compact(slices.Clone(b))) != len(b) {
		errs = append(errs, fmt.Errorf("duration_histogram.buckets: must be strictly increasing, got %v", b))
	}
	return statereceiver.Validate(&c.Config, errs...)
}

func checkPatterns(key string, patterns []string) []error {
	var errs []error
	for i, p := range patterns {
		if p == "" {
			errs = append(errs, fmt.Errorf("%s[%d]: empty pattern; remove it or write a host such as docker.io or *.example.com", key, i))
		} else if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is not a valid glob (%w); use * and ? as in *.example.com:5000", key, i, p, err))
		}
	}
	return errs
}

// watchesEvents says whether a metric that reads Events is enabled (slow pulls date a pull from
// the kubelet's Pulling event).
func (c *Config) watchesEvents() bool {
	return c.DurationHistogram.Enabled || c.Metrics.ImagePulls.Enabled || c.Metrics.ImagePullBytes.Enabled || c.Metrics.ImagePullSlow.Enabled
}

// watchesPods says whether any metric read from Pod status is enabled.
func (c *Config) watchesPods() bool {
	return c.Metrics.ImagePullFailures.Enabled || c.Metrics.ImagePullSlow.Enabled
}
