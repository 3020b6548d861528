package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
)

// BenchmarkReloadBlackout: from the config file write until the first scrape of the exporter that
// shows the new config's series (node receiver, no leader gating, collection_interval 200ms,
// initial_delay 0s), with the default 3s debounce unless OTELCOL_SEALOS_RELOAD_DEBOUNCE is set.
// Reported: the median (ms) over b.N reloads, the debounce it includes, and the median of one
// `otelcol-sealos validate` run (the check before every reload).
//
//	cd test && OTELCOL_SEALOS_BIN=$PWD/../bin/otelcol-sealos KUBEBUILDER_ASSETS=... \
//	  go test -run '^$' -bench BenchmarkReloadBlackout -benchtime 10x ./e2e/
func BenchmarkReloadBlackout(b *testing.B) {
	debounce := 3 * time.Second
	if v := os.Getenv("OTELCOL_SEALOS_RELOAD_DEBOUNCE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		debounce = d
	}
	c := k8stest.StartT(b)
	// node-healthy is all the series need (reloadConfig's probes name it).
	if _, err := k8stest.CreateNode(context.Background(), c.Client, "node-healthy", k8stest.Healthy); err != nil {
		b.Fatal(err)
	}
	port := otelcoltest.FreePort(b)
	path := filepath.Join(b.TempDir(), "config.yaml")
	write := func(all bool) {
		if err := os.WriteFile(path, []byte(reloadConfig(c.Kubeconfig, port, fmt.Sprintf("    report_all_conditions: %t", all))), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	write(false)
	col := otelcoltest.Start(b, path)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	waitState := func(all bool) {
		deadline := time.Now().Add(waitFor)
		for time.Now().Before(deadline) {
			if s, err := otelcoltest.Scrape(url); err == nil {
				_, has := s[allConditionsSeries]
				if s[`sealos_node_healthy{node="node-healthy"}`] == 1 && has == all {
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.Fatalf("config (report_all_conditions: %t) not exported within %s; exited: %v\n%s", all, waitFor, col.Exited(), col.Output())
	}
	waitState(false)

	var blackouts []time.Duration
	state := false
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		state = !state
		start := time.Now()
		write(state)
		waitState(state)
		blackouts = append(blackouts, time.Since(start))
	}
	b.StopTimer()

	var validates []time.Duration
	for i := 0; i < 5; i++ {
		start := time.Now()
		if out, err := exec.Command(otelcoltest.Binary(b), "validate", "--config="+path).CombinedOutput(); err != nil {
			b.Fatalf("validate: %v\n%s", err, out)
		}
		validates = append(validates, time.Since(start))
	}
	b.ReportMetric(ms(median(blackouts)), "ms-blackout-median")
	b.ReportMetric(ms(debounce), "ms-debounce")
	b.ReportMetric(ms(median(blackouts)-debounce), "ms-after-debounce-median")
	b.ReportMetric(ms(median(validates)), "ms-validate-median")
	b.Logf("blackouts: %v", blackouts)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
