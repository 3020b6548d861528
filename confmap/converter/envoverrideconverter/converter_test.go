package envoverrideconverter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
)

// nodeConfig mimics a receiver config decoded by the collector: defaults first, then the conf.
type nodeConfig struct {
	CollectionInterval  time.Duration `mapstructure:"collection_interval"`
	ReportAllConditions bool          `mapstructure:"report_all_conditions"`
	QPS                 int           `mapstructure:"qps"`
	Ratio               float64       `mapstructure:"ratio"`
	Endpoint            string        `mapstructure:"endpoint"`
	Nodes               []string      `mapstructure:"nodes"`
	Ports               []int         `mapstructure:"ports"`
}

func defaults() nodeConfig { return nodeConfig{CollectionInterval: 30 * time.Second, QPS: 5} }

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// resolve runs the collector's resolver with the real env/file/yaml providers and our converter,
// as `--config=<uris...>` would.
func resolve(t *testing.T, uris ...string) (*confmap.Conf, error) {
	t.Helper()
	r, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:               uris,
		ProviderFactories:  []confmap.ProviderFactory{envprovider.NewFactory(), fileprovider.NewFactory(), yamlprovider.NewFactory()},
		ConverterFactories: []confmap.ConverterFactory{NewFactory()},
		DefaultScheme:      "env",
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r.Resolve(context.Background())
}

func decodeNode(t *testing.T, conf *confmap.Conf) nodeConfig {
	t.Helper()
	sub, err := conf.Sub("receivers::node")
	require.NoError(t, err)
	cfg := defaults()
	require.NoError(t, sub.Unmarshal(&cfg))
	return cfg
}

const file = `receivers:
  node:
    collection_interval: 10s
    report_all_conditions: false
    qps: 7
    ratio: 0.5
    endpoint: a:1
    nodes: [a, b]
    ports: [1, 2]
  prometheus/foo:
    config: {}
`

func TestPrecedenceLayers(t *testing.T) {
	path := writeFile(t, file)

	t.Run("defaults when the file does not set the key", func(t *testing.T) {
		conf, err := resolve(t, "file:"+writeFile(t, "receivers:\n  node:\n    qps: 7\n"))
		require.NoError(t, err)
		cfg := decodeNode(t, conf)
		assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
		assert.Equal(t, 7, cfg.QPS)
	})
	t.Run("file over defaults", func(t *testing.T) {
		conf, err := resolve(t, "file:"+path)
		require.NoError(t, err)
		assert.Equal(t, 10*time.Second, decodeNode(t, conf).CollectionInterval)
	})
	t.Run("--set over file", func(t *testing.T) {
		conf, err := resolve(t, "file:"+path, "yaml:receivers::node::collection_interval: 20s")
		require.NoError(t, err)
		assert.Equal(t, 20*time.Second, decodeNode(t, conf).CollectionInterval)
	})
	t.Run("environment over --set and file", func(t *testing.T) {
		t.Setenv("OTELCOL_RECEIVERS__NODE__COLLECTION_INTERVAL", "1m")
		conf, err := resolve(t, "file:"+path, "yaml:receivers::node::collection_interval: 20s")
		require.NoError(t, err)
		assert.Equal(t, time.Minute, decodeNode(t, conf).CollectionInterval)
	})
	t.Run("environment over a ${env:} reference in the file", func(t *testing.T) {
		t.Setenv("QPS", "9")
		t.Setenv("OTELCOL_RECEIVERS__NODE__QPS", "11")
		conf, err := resolve(t, "file:"+writeFile(t, "receivers:\n  node:\n    qps: ${env:QPS}\n"))
		require.NoError(t, err)
		assert.Equal(t, 11, decodeNode(t, conf).QPS)
	})
}

func TestTypesFollowTheConfiguredValue(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__NODE__REPORT_ALL_CONDITIONS", "true")
	t.Setenv("OTELCOL_RECEIVERS__NODE__QPS", "50")
	t.Setenv("OTELCOL_RECEIVERS__NODE__RATIO", "0.75")
	t.Setenv("OTELCOL_RECEIVERS__NODE__ENDPOINT", "12345") // a string field stays a string
	conf, err := resolve(t, "file:"+writeFile(t, file))
	require.NoError(t, err)
	cfg := decodeNode(t, conf)
	assert.True(t, cfg.ReportAllConditions)
	assert.Equal(t, 50, cfg.QPS)
	assert.InDelta(t, 0.75, cfg.Ratio, 1e-9)
	assert.Equal(t, "12345", cfg.Endpoint)
}

func TestLists(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__NODE__NODES", "x, y,z")
	t.Setenv("OTELCOL_RECEIVERS__NODE__PORTS", "8080,9090")
	conf, err := resolve(t, "file:"+writeFile(t, file))
	require.NoError(t, err)
	cfg := decodeNode(t, conf)
	assert.Equal(t, []string{"x", "y", "z"}, cfg.Nodes)
	assert.Equal(t, []int{8080, 9090}, cfg.Ports)

	t.Setenv("OTELCOL_RECEIVERS__NODE__NODES", "")
	conf, err = resolve(t, "file:"+writeFile(t, file))
	require.NoError(t, err)
	assert.Empty(t, decodeNode(t, conf).Nodes)
}

func TestComponentIDWithSlash(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__PROMETHEUS_FOO__CONFIG__SCRAPE_INTERVAL", "5s")
	_, err := resolve(t, "file:"+writeFile(t, file))
	require.EqualError(t, err, `cannot convert the confmap.Conf: OTELCOL_RECEIVERS__PROMETHEUS_FOO__CONFIG__SCRAPE_INTERVAL: no such config key: nothing under "receivers::prometheus/foo::config" matches "SCRAPE_INTERVAL" (overrides change keys present in the configuration)`)

}

func TestSegmentsMatchCaseInsensitively(t *testing.T) {
	t.Setenv("OTELCOL_receivers__Node__qps", "3")
	conf, err := resolve(t, "file:"+writeFile(t, file))
	require.NoError(t, err)
	assert.Equal(t, 3, decodeNode(t, conf).QPS)
}

func TestNonExistentPathIsAnError(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__NODE__COLECTION_INTERVAL", "1m")
	_, err := resolve(t, "file:"+writeFile(t, file))
	require.ErrorContains(t, err, `OTELCOL_RECEIVERS__NODE__COLECTION_INTERVAL: no such config key: nothing under "receivers::node" matches "COLECTION_INTERVAL"`)
}

func TestPathThroughAScalarIsAnError(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__NODE__QPS__X", "1")
	_, err := resolve(t, "file:"+writeFile(t, file))
	require.ErrorContains(t, err, `OTELCOL_RECEIVERS__NODE__QPS__X: no such config key: "receivers::node::qps" is not a map, it has no key "X"`)
}

func TestAmbiguousKeys(t *testing.T) {
	t.Setenv("OTELCOL_EXPORTERS__DEBUG_A__VERBOSITY", "basic")
	_, err := resolve(t, "file:"+writeFile(t, "exporters:\n  debug/a:\n    verbosity: detailed\n  debug_a:\n    verbosity: detailed\n"))
	require.ErrorContains(t, err, `OTELCOL_EXPORTERS__DEBUG_A__VERBOSITY: ambiguous: keys debug/a, debug_a under "exporters" all match "DEBUG_A"`)
}

func TestTypeErrorsDoNotRepeatTheValue(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__NODE__QPS", "s3cr3t")
	t.Setenv("OTELCOL_RECEIVERS__NODE__REPORT_ALL_CONDITIONS", "s3cr3t")
	t.Setenv("OTELCOL_RECEIVERS__NODE__PORTS", "1,s3cr3t")
	t.Setenv("OTELCOL_RECEIVERS__NODE", "s3cr3t")
	_, err := resolve(t, "file:"+writeFile(t, file))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.Contains(t, err.Error(), "OTELCOL_RECEIVERS__NODE__QPS: want a number (the configuration has an integer here)")
	assert.Contains(t, err.Error(), "OTELCOL_RECEIVERS__NODE__REPORT_ALL_CONDITIONS: want true or false")
	assert.Contains(t, err.Error(), "OTELCOL_RECEIVERS__NODE__PORTS: list item 2: want a number")
	assert.Contains(t, err.Error(), "OTELCOL_RECEIVERS__NODE: the key holds a map; override its keys instead (OTELCOL_RECEIVERS__NODE__<KEY>)")
}

func TestVariablesWithoutDoubleUnderscoreAreNotOverrides(t *testing.T) {
	t.Setenv("OTELCOL_SEALOS_RELOAD_DEBOUNCE", "1s")
	t.Setenv("OTELCOL_SEALOS_BIN", "/x")
	conf, err := resolve(t, "file:"+writeFile(t, file))
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, decodeNode(t, conf).CollectionInterval)
}

// Converters run on every resolve: after the file changes, the override still wins.
func TestReloadKeepsTheOverride(t *testing.T) {
	t.Setenv("OTELCOL_RECEIVERS__NODE__COLLECTION_INTERVAL", "1m")
	path := writeFile(t, file)
	r, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:               []string{"file:" + path},
		ProviderFactories:  []confmap.ProviderFactory{fileprovider.NewFactory()},
		ConverterFactories: []confmap.ConverterFactory{NewFactory()},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	conf, err := r.Resolve(context.Background())
	require.NoError(t, err)
	assert.Equal(t, time.Minute, decodeNode(t, conf).CollectionInterval)

	require.NoError(t, os.WriteFile(path, []byte("receivers:\n  node:\n    collection_interval: 5s\n    qps: 1\n"), 0o600))
	conf, err = r.Resolve(context.Background())
	require.NoError(t, err)
	cfg := decodeNode(t, conf)
	assert.Equal(t, time.Minute, cfg.CollectionInterval)
	assert.Equal(t, 1, cfg.QPS, "the file's new values apply")
}
