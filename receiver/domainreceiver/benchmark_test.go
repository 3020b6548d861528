package domainreceiver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/domainreceiver/internal/metadata"
)

// BenchmarkCycle1000Targets3IPs: one full cycle over 1,000 targets that each resolve (through a
// loopback DNS server) to three loopback addresses served by TLS servers: both checks on every
// address, 6,000 handshakes and 3,000 requests. Sub-benchmarks: the default concurrency bound and
// a larger one.
func BenchmarkCycle1000Targets3IPs(b *testing.B) {
	for _, bound := range []int{createDefaultConfig().(*Config).MaxConcurrentChecks, 512} {
		b.Run(fmt.Sprintf("max_concurrent_checks=%d", bound), func(b *testing.B) { benchmarkCycle(b, bound) })
	}
}

func benchmarkCycle(b *testing.B, bound int) {
	const targets = 1000
	ips := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	port := commonPort(b, ips...)
	ca := newCA(b, "Bench Root CA")
	var addrs []string
	for _, ip := range ips {
		addrs = append(addrs, net.JoinHostPort(ip, strconv.Itoa(port)))
	}
	serveTLS(b, ca.leaf(b, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), "*.bench.test"),
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }), addrs...)
	records := map[string][]string{}
	cfg := createDefaultConfig().(*Config)
	for i := range targets {
		name := fmt.Sprintf("t%04d.bench.test", i)
		records[name] = ips
		cfg.Targets = append(cfg.Targets, Target{Endpoint: name + ":" + strconv.Itoa(port), FollowRedirects: true})
	}
	cfg.MaxConcurrentChecks = bound
	cfg.DNSServer = startDNS(b, records).addr
	cfg.CAFile = ca.writePEM(b)
	require.NoError(b, cfg.Validate())
	s := newDomainSource(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(b, s.Start(context.Background(), componenttest.NewNopHost()))

	var slowest time.Duration
	var peak int
	cpuBefore := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		stopSampling := sampleGoroutines(&peak)
		results := s.runChecks(context.Background())
		stopSampling()
		for _, r := range results {
			require.Empty(b, r.dnsReason)
			require.Len(b, r.ips, len(ips))
			slowest = max(slowest, r.lookup)
			for _, ip := range r.ips {
				require.Empty(b, ip.http.reason, "a check failed: the figures would not be of a healthy cycle")
				require.Empty(b, ip.cert.reason)
				slowest = max(slowest, ip.http.took, ip.cert.took)
			}
		}
	}
	b.StopTimer()
	// Process CPU: the receiver's side and the loopback servers' side of every handshake.
	b.ReportMetric((cpuTime()-cpuBefore).Seconds()/float64(b.N), "cpu-s/op")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(slowest.Seconds()*1000, "slowest-check-ms")
	b.ReportMetric(float64(peak), "peak-goroutines")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-after-MiB")
}

// sampleGoroutines records the highest goroutine count seen until the returned stop is called.
func sampleGoroutines(peak *int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			*peak = max(*peak, runtime.NumGoroutine())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
