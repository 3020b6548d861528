package cloudbalancereceiver

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/series"
)

// BenchmarkCycle300Accounts: one cycle over 100 accounts per provider, each with its own key pair,
// against the loopback fake APIs (which verify every signature: their CPU is in the figures), with
// the default settings (max_concurrent_queries 4). Every account must read its balance.
func BenchmarkCycle300Accounts(b *testing.B) {
	c := newClouds(b)
	var accounts []Account
	for _, provider := range providerNames() {
		amount := "1,234.56"
		if provider == "tencentcloud" {
			amount = "123456" // fen
		}
		for i := range 100 {
			id := fmt.Sprintf("%s-%03d", provider, i)
			accounts = append(accounts, c.account(provider, id, "key-"+id, "secret-"+id, cloudtest.Reply{Balance: amount, Currency: "CNY"}))
		}
	}
	cfg := testConfig(b, accounts...)
	cfg.MaxConcurrentQueries = createDefaultConfig().(*Config).MaxConcurrentQueries
	s, _ := newTestSource(b, cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		md, err := s.Collect(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if n := len(series.WithPrefix(series.Of(md), "cloudbalance.balance")); n != len(accounts) {
			b.Fatalf("%d of %d balances read", n, len(accounts))
		}
	}
	b.StopTimer()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MiB")
}
