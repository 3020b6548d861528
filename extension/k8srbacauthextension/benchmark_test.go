package k8srbacauthextension

import "testing"

// BenchmarkReview measures one authorisation decision: from the cache, and asking the real API
// server (TokenReview + SubjectAccessReview; cache disabled). Numbers: docs/benchmarks.md.
func BenchmarkReview(b *testing.B) {
	f := newRBACFixture(b)
	for _, bc := range []struct {
		name      string
		cacheSize int
	}{{"cached", 1024}, {"uncached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			ext, _ := f.startExtensionWith(b, newFakeClock(), func(c *Config) {
				c.CacheSize = bc.cacheSize
				c.QPS, c.Burst = 1000, 1000 // measure the API server, not client-go's rate limiter
			})
			rev := ext.reviewer()
			if res, err := rev.review(b.Context(), f.readerToken, "/metrics"); err != nil || res.decision != allowed {
				b.Fatalf("warm-up review: %v %v", res.decision, err)
			}
			before := rev.apiCalls.Load()
			n := 0
			for b.Loop() {
				if _, err := rev.review(b.Context(), f.readerToken, "/metrics"); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(rev.apiCalls.Load()-before)/float64(n), "apicalls/op")
		})
	}
}
