package prometheusstateexporter

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// In-process benchmarks, ours and contrib side by side (the per-process numbers with RSS come
// from test/cmd/exporterbench, see docs/benchmarks.md):
//
//	go test -run '^$' -bench . -benchtime 5x .

var benchSizes = []int{10_000, 50_000, 250_000}

func benchExporters(b *testing.B) map[string]*running {
	o := options{namespace: "sealos"}
	return map[string]*running{"ours": startOurs(b, o), "contrib": startContrib(b, o)}
}

// BenchmarkScrape is one /metrics request (plain or gzip) over loopback, body read fully.
func BenchmarkScrape(b *testing.B) {
	for _, n := range benchSizes {
		objects := n / 5
		for name, r := range benchExporters(b) {
			r.feed(b, stateBatch(objects, 0))
			for _, gz := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/series=%d/gzip=%v", name, n, gz), func(b *testing.B) {
					for b.Loop() {
						scrapeDiscard(b, r.url, gz)
					}
				})
			}
		}
	}
}

// BenchmarkIngest is ConsumeMetrics of a full batch whose series already exist (steady state).
func BenchmarkIngest(b *testing.B) {
	for _, n := range benchSizes {
		objects := n / 5
		for name, r := range benchExporters(b) {
			batch := stateBatch(objects, 1)
			r.feed(b, stateBatch(objects, 0))
			b.Run(fmt.Sprintf("%s/series=%d", name, n), func(b *testing.B) {
				for b.Loop() {
					r.feed(b, batch)
				}
			})
		}
	}
}

func scrapeDiscard(b *testing.B, url string, gz bool) {
	req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
	require.NoError(b, err)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(b, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(b, err)
	require.NoError(b, resp.Body.Close())
}
