package prometheusstateexporter

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// stateBatch is `objects` objects × 5 series (the crds receiver's shape) with values from round.
func stateBatch(objects, round int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sm := newScope(md, map[string]any{"service.name": "otelcol-sealos", "service.instance.id": "pod-0"})
	info := gauge(sm, "kubeblocks.cluster.info", "", "Cluster information.")
	replicas := gauge(sm, "kubeblocks.cluster.replicas", "{replica}", "Desired replicas.")
	phase := gauge(sm, "kubeblocks.cluster.phase", "", "Cluster phase.")
	cond := gauge(sm, "kubeblocks.cluster.condition", "", "Cluster conditions.")
	ts := pcommon.NewTimestampFromTime(t1.AsTime().Add(0))
	for i := range objects {
		ns := fmt.Sprintf("ns-%d", i%50)
		name := fmt.Sprintf("cluster-%d", i)
		point(info, 1, ts, map[string]any{"namespace": ns, "cluster": name, "cluster_def": "mysql", "cluster_version": "8.0"})
		point(replicas, float64((i+round)%5), ts, map[string]any{"namespace": ns, "cluster": name})
		point(phase, 1, ts, map[string]any{"namespace": ns, "cluster": name, "phase": "Running"})
		point(cond, float64(round%2), ts, map[string]any{"namespace": ns, "cluster": name, "type": "Ready"})
		point(cond, 1, ts, map[string]any{"namespace": ns, "cluster": name, "type": "ProvisioningStarted"})
	}
	return md
}

// Scrapes run while producers ingest: every scrape parses, has no duplicate series, and the
// final state is complete. Run with -race.
func TestScrapesDuringIngestion(t *testing.T) {
	r := startOurs(t, options{namespace: "sealos"})
	const objects, rounds, producers, scrapers = 400, 15, 3, 2
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range rounds {
				r.feed(t, stateBatch(objects, round+p))
			}
		}()
	}
	stop := make(chan struct{})
	scraped := make(chan int, 1000)
	var swg sync.WaitGroup
	for s := range scrapers {
		swg.Add(1)
		go func() {
			defer swg.Done()
			for i := 0; i < 200; i++ {
				select {
				case <-stop:
					return
				default:
				}
				text := scrapeRaw(t, r.url, s%2 == 1)
				scraped <- requireNoDuplicateSeries(t, text)
			}
		}()
	}
	wg.Wait()
	close(stop)
	swg.Wait()
	close(scraped)
	n := 0
	for range scraped {
		n++
	}
	require.Positive(t, n)
	text := scrapeRaw(t, r.url, false)
	require.Equal(t, objects*5+1, requireNoDuplicateSeries(t, text), "every series plus target_info")
	require.Equal(t, float64(objects*5+1), selfMetric(t, text, "prometheus_state_exporter_series", ""))
}

// requireNoDuplicateSeries parses an exposition and returns its number of series, failing on a
// series that appears twice.
func requireNoDuplicateSeries(t *testing.T, text string) int {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err)
	n := 0
	for name, fam := range fams {
		if strings.HasPrefix(name, "prometheus_state_exporter_") {
			continue
		}
		seen := map[string]bool{}
		for _, m := range fam.GetMetric() {
			k := labelString(m)
			require.False(t, seen[k], "duplicate series %s{%s}", name, k)
			seen[k] = true
			n++
		}
	}
	return n
}
