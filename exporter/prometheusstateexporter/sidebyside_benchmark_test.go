package prometheusstateexporter

import (
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSideBySide runs, per size and exporter, the measurement in this process: one
// exporter at a time, fed a full batch of objects × 5 gauge series, then 10 plain and 10 gzip
// scrapes over loopback. Reported: scrape p50/p99 (s), CPU per ingestion of the full batch (first
// and steady-state update, s), and Go heap in use after the scrapes, minus before the exporter
// existed (MiB; the per-process RSS comes from test/cmd/exporterbench).
//
//	go test -run '^$' -bench SideBySide -benchtime 1x -timeout 60m .
func BenchmarkSideBySide(b *testing.B) {
	for _, n := range benchSizes {
		for _, name := range []string{"ours", "contrib"} {
			b.Run(fmt.Sprintf("%s/series=%d", name, n), func(b *testing.B) {
				for b.Loop() {
					sideBySide(b, name, n/5)
				}
			})
		}
	}
}

func sideBySide(b *testing.B, name string, objects int) {
	first, update := stateBatch(objects, 0), stateBatch(objects, 1)
	heapBefore := heapInUse()
	start := startOurs
	if name == "contrib" {
		start = startContrib
	}
	r := start(b, options{namespace: "sealos", writeTimeout: 10 * time.Minute})
	cpu := cpuNow()
	r.feed(b, first)
	b.ReportMetric((cpuNow() - cpu).Seconds(), "ingest-first-cpu-s")
	cpu = cpuNow()
	r.feed(b, update)
	b.ReportMetric((cpuNow() - cpu).Seconds(), "ingest-update-cpu-s")
	for _, gz := range []bool{false, true} {
		var took []time.Duration
		for range 10 {
			t := time.Now()
			scrapeDiscard(b, r.url, gz)
			took = append(took, time.Since(t))
		}
		slices.Sort(took)
		enc := "plain"
		if gz {
			enc = "gzip"
		}
		b.ReportMetric(took[4].Seconds(), "scrape-p50-"+enc+"-s")
		b.ReportMetric(took[9].Seconds(), "scrape-p99-"+enc+"-s")
	}
	b.ReportMetric(float64(heapInUse()-heapBefore)/(1<<20), "heap-growth-MiB")
	runtime.KeepAlive(first)
	runtime.KeepAlive(update)
	shutdownNow(b, r)
}

// shutdownNow shuts the exporter down now (Cleanup would keep it alive across sizes).
func shutdownNow(b *testing.B, r *running) {
	b.Helper()
	_ = r.exp.Shutdown(b.Context())
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
