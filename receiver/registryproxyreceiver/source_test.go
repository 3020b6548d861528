package registryproxyreceiver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/registryproxyreceiver/internal/metadata"
)

func newTestSource(t *testing.T, registries []Registry, dnsServer string, tweak func(*Config)) *registrySource {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Registries = registries
	cfg.DNSServer = dnsServer
	cfg.CheckTimeout = time.Second
	if tweak != nil {
		tweak(cfg)
	}
	require.NoError(t, cfg.Validate())
	s := newRegistrySource(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	return s
}

func TestCollectGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("starts registries")
	}
	sc := startScenario(t)
	s := newTestSource(t, sc.registries(), sc.dns.Addr, nil)
	md, err := s.Collect(context.Background())
	require.NoError(t, err, "failed checks are data, not a failed cycle")
	compareGolden(t, sc, md, "scenario.yaml")

	// The token service was asked for the right user's token, and refused the others.
	assert.Positive(t, sc.tokens.Requests())
	assert.Positive(t, sc.tokens.Denied())
}

// compareGolden checks md against testdata/expected_metrics/file with stable ports; response
// times vary and are compared by presence only.
func compareGolden(t *testing.T, sc *scenario, md pmetric.Metrics, file string) {
	t.Helper()
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				dps := ms.At(k).Gauge().DataPoints()
				for l := range dps.Len() {
					dps.At(l).Attributes().Range(func(key string, v pcommon.Value) bool {
						dps.At(l).Attributes().PutStr(key, sc.stable(v.Str()))
						return true
					})
				}
			}
		}
	}
	path := filepath.Join("testdata", "expected_metrics", file)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreMetricsOrder(),
		pmetrictest.IgnoreMetricValues("registry_proxy.response_time")))
}
