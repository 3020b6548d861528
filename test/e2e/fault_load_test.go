package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/loadtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/tlstest"
)

// The load cases of the fault suite: a flood of made-up bearer tokens in front of /metrics,
// concurrent scrapers of 250,000 series, a million label sets churning through the exporter, and
// the memory limiter under GOMEMLIMIT. The pushes and /proc readings are test/loadtest's, shared
// with cmd/exporterbench and cmd/crdsbench.

// TestFaultTokenFloodDoesNotStarveScrapers sends 10,000 requests with made-up bearer tokens at a
// /metrics protected by k8s_rbac_auth (as middleware) while a scraper with a real ServiceAccount
// token scrapes every 250 ms. The extension reaches the API server through a CountingProxy, so
// the TokenReviews are counted where they cost.
func TestFaultTokenFloodDoesNotStarveScrapers(t *testing.T) {
	faultCase(t)
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	ctx := t.Context()
	readerToken, err := k8stest.ServiceAccountToken(ctx, c.Client, "monitoring", "prometheus")
	require.NoError(t, err)
	require.NoError(t, k8stest.GrantNonResourceGet(ctx, c.Client, "metrics-reader", []string{"/metrics"}, "monitoring", "prometheus"))
	proxy := c.StartCountingProxy(t)

	// The extension's settings the bounds below follow from. qps/burst are raised from the
	// defaults (20/40) so that 10,000 requests fit in the test's time; allowed_ttl is short so
	// that the scraper's answer is renewed several times during the flood.
	const (
		qps, burst           = 100, 100
		maxConcurrentReviews = 4
		allowedTTL           = 3 * time.Second
		reviewTimeout        = 5 * time.Second // the default
		flood                = 10_000
		floodWorkers         = 8
		scrapeEvery          = 250 * time.Millisecond
	)
	port := otelcoltest.FreePort(t)
	cfg := pipeline{
		exporter: "prometheus_state",
		exporters: fmt.Sprintf(`  prometheus_state:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
    middlewares:
      - id: k8s_rbac_auth`, port),
		extension: "k8s_rbac_auth",
		extensions: fmt.Sprintf(`  k8s_rbac_auth:
    auth_type: kubeConfig
    kubeconfig_path: %s
    qps: %d
    burst: %d
    max_concurrent_reviews: %d
    allowed_ttl: %s
    timeout: %s
`, proxy.Kubeconfig, qps, burst, maxConcurrentReviews, allowedTTL, reviewTimeout),
	}.write(t, c.Kubeconfig)
	started := time.Now() // the extension's rate limiter starts full (burst) no earlier than this
	col := otelcoltest.Start(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	scraper := &http.Client{Timeout: 30 * time.Second}
	var last tlstest.Response
	ok := assert.Eventually(t, func() bool {
		last = tlstest.Get(scraper, url, readerToken)
		return last.Status == http.StatusOK && strings.Contains(last.Body, "sealos_node_healthy{")
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "the scraper is not let in: %+v\ncollector exited: %v", last, col.Exited())
	require.Equal(t, 1, proxy.Total("POST subjectaccessreviews"), "the scraper's first review")

	// The scraper, every 250 ms until the flood is over: each scrape must be 200 and parse.
	floodDone := make(chan struct{})
	var (
		scrapeTimes    []time.Duration
		scrapeFailures []string
		scraperWG      sync.WaitGroup
	)
	scraperWG.Go(func() {
		tick := time.NewTicker(scrapeEvery)
		defer tick.Stop()
		for {
			select {
			case <-floodDone:
				return
			case <-tick.C:
			}
			began := time.Now()
			r := tlstest.Get(scraper, url, readerToken)
			took := time.Since(began)
			err := r.Err
			if err == nil && r.Status != http.StatusOK {
				err = fmt.Errorf("status %d: %.200s", r.Status, r.Body)
			}
			if err == nil {
				var fams map[string]*dto.MetricFamily
				if fams, err = parseExposition(strings.NewReader(r.Body)); err == nil && len(fams["sealos_node_healthy"].GetMetric()) != 3 {
					err = fmt.Errorf("sealos_node_healthy has %d series, want 3", len(fams["sealos_node_healthy"].GetMetric()))
				}
			}
			scrapeTimes = append(scrapeTimes, took)
			if err != nil {
				scrapeFailures = append(scrapeFailures, fmt.Sprintf("scrape %d after %s: %v", len(scrapeTimes), took, err))
			}
		}
	})

	// The flood: a quarter JWTs with a JSON header (jwt_only lets them through: each costs a
	// TokenReview unless it finds no review slot within timeout), a quarter three base64url parts
	// whose header is not JSON and half plain garbage (both refused without asking the API server).
	floodClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: floodWorkers}}
	var (
		next                   atomic.Int64
		plausibleSent          atomic.Int64
		plausible401, busy503  atomic.Int64
		implausible401         atomic.Int64
		floodMu                sync.Mutex
		floodFailures          []string
		floodWG                sync.WaitGroup
		floodBegan             = time.Now()
		reviewsBefore, sarBase = proxy.Total("POST tokenreviews"), proxy.Total("POST subjectaccessreviews")
	)
	for range floodWorkers {
		floodWG.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= flood {
					return
				}
				token, plausible := floodToken(i)
				if plausible {
					plausibleSent.Add(1)
				}
				r := tlstest.Get(floodClient, url, token)
				switch {
				case r.Err == nil && r.Status == http.StatusUnauthorized && plausible:
					plausible401.Add(1)
				case r.Err == nil && r.Status == http.StatusServiceUnavailable && plausible:
					busy503.Add(1)
				case r.Err == nil && r.Status == http.StatusUnauthorized:
					implausible401.Add(1)
				default:
					floodMu.Lock()
					floodFailures = append(floodFailures, fmt.Sprintf("request %d (plausible %v): status %d, err %v", i, plausible, r.Status, r.Err))
					floodMu.Unlock()
				}
			}
		})
	}
	floodWG.Wait()
	floodTook := time.Since(floodBegan)
	close(floodDone)
	scraperWG.Wait()
	sinceStart := time.Since(started)

	reviews, sars, peak := proxy.Total("POST tokenreviews"), proxy.Total("POST subjectaccessreviews"), proxy.Peak("POST tokenreviews")
	figure(t, "token flood: %d requests (%d JWT-shaped with a JSON header) from %d goroutines in %.1f s: %d × 401 and %d × 503 (no review slot within %s) for the JWT-shaped, %d × 401 for the rest",
		flood, plausibleSent.Load(), floodWorkers, floodTook.Seconds(), plausible401.Load(), busy503.Load(), reviewTimeout, implausible401.Load())
	figure(t, "token flood: the API server saw %d TokenReviews during the flood (%d in all, at most %d at once) and %d SubjectAccessReviews (the scraper's renewals, allowed_ttl %s)",
		reviews-reviewsBefore, reviews, peak, sars-sarBase, allowedTTL)
	figure(t, "token flood: valid scrapes every %s: %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d failed",
		scrapeEvery, len(scrapeTimes), ms(loadtest.Percentile(scrapeTimes, 0.5)), ms(loadtest.Percentile(scrapeTimes, 0.99)), ms(loadtest.Percentile(scrapeTimes, 1)), len(scrapeFailures))

	assert.Empty(t, floodFailures, "flood requests answered other than 401 (any token) or 503 (a JWT-shaped one without a review slot)")
	assert.Equal(t, int64(flood), plausible401.Load()+busy503.Load()+implausible401.Load()+int64(len(floodFailures)))
	assert.Empty(t, scrapeFailures, "the scraper with a valid token was refused or got an unparseable body during the flood")
	assert.GreaterOrEqual(t, len(scrapeTimes), int(floodTook/scrapeEvery)/2, "the scraper did not keep scraping during the flood")
	assert.False(t, col.Exited())

	// The bounds, each from the extension's code and settings:
	// 1. jwt_only: only JWT-shaped tokens with a JSON header reach a TokenReview. The scraper's
	//    reviews are each one TokenReview plus one SubjectAccessReview (made-up tokens never get
	//    a SubjectAccessReview: they are not authenticated), so every TokenReview beyond the
	//    SubjectAccessReviews was one of the JWT-shaped tokens: at most plausibleSent of them.
	//    And at least one per 401 of those: each is a new token, so its 401 is the API server's.
	assert.LessOrEqual(t, reviews-sars, int(plausibleSent.Load()), "TokenReviews of tokens that are not JWTs (or cached answers asked again)")
	assert.GreaterOrEqual(t, reviews-sars, int(plausible401.Load()), "401s of JWT-shaped tokens without a TokenReview")
	// 2. The cache: the scraper's answer is fresh for allowed_ttl, then renewed once in the
	//    background; so its reviews are at most one per allowed_ttl since the first (+1 rounding),
	//    not one per scrape (4 a second).
	assert.LessOrEqual(t, sars, 2+int(sinceStart/allowedTTL), "the scraper's answer was asked for more often than once per allowed_ttl")
	// 3. max_concurrent_reviews: unknown tokens hold a slot while reviewed, renewals take none
	//    and are one per key at a time (one key here): at most slots + 1 in flight at the server.
	assert.LessOrEqual(t, peak, maxConcurrentReviews+1, "TokenReviews in flight at the API server")
	// 4. client-go's token bucket (qps, burst) in front of every API call of the extension,
	//    full (burst) at start: requests ≤ burst + qps × time since the extension started, both
	//    kinds of review together.
	assert.LessOrEqual(t, reviews+sars, burst+int(qps*sinceStart.Seconds())+1, "API calls beyond the client's rate limit")
	// And with half the flood garbage, the total is far below one review per request.
	assert.Less(t, reviews, flood/2, "TokenReviews")
}

// floodToken is the i-th made-up bearer token; plausible: shaped as jwt_only lets through.
func floodToken(i int) (token string, plausible bool) {
	random := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	switch i % 4 {
	case 0: // {"alg":"RS256","kid":"..."}.payload.signature: a ServiceAccount token's shape
		header := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"alg":"RS256","kid":"%s"}`, random(12)))
		return header + "." + random(200) + "." + random(256), true
	case 1: // three base64url parts, the first not a JSON object
		return random(27) + "." + random(200) + "." + random(256), false
	default: // printable garbage, with dots and base64 (not base64url) characters now and then
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=.-_~!$%&*?"
		b := make([]byte, 8+i%300)
		_, _ = rand.Read(b)
		for j := range b {
			b[j] = alphabet[int(b[j])%len(alphabet)]
		}
		return string(b), false
	}
}

// TestFaultConcurrentScrapersAt250kSeries: OTLP → prometheus_state with 250,000 series (50,000
// objects × 5, exporterbench's shape), re-pushed with changed values while 20 goroutines scrape
// /metrics for 20 s, half of them with gzip. Every scrape must be complete and parse.
func TestFaultConcurrentScrapersAt250kSeries(t *testing.T) {
	faultCase(t)
	const (
		objects  = 50_000
		series   = objects * loadtest.SeriesPerObject
		scrapers = 20
		scraping = 20 * time.Second
	)
	col := startLoadCollector(t, loadSetup{})
	rssIdle := rssOf(t, col.Pid())

	began := time.Now()
	require.NoError(t, col.pusher.Push(t.Context(), loadtest.Gauges{Objects: objects}))
	firstPush := time.Since(began)
	fams, _, err := fetchExposition(col.metrics, false)
	require.NoError(t, err)
	require.NoError(t, checkLoadExposition(fams, series, ""))
	rssLoaded := rssOf(t, col.Pid())

	ctx, cancel := context.WithTimeout(t.Context(), scraping)
	defer cancel()
	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		plainTimes, gzTime []time.Duration
		headerTimes        []time.Duration
		failures           []string
		rounds             atomic.Int64
		pushErr            error
		inFlight, peak     atomic.Int64
		rssMax             int64
	)
	// Re-push all 250,000 series, a fifth of the values changed each round, until the end (a
	// round under way then completes: its requests are not cut off by the scrapers' deadline).
	wg.Go(func() {
		for round := 1; ctx.Err() == nil; round++ {
			if pushErr = col.pusher.Push(t.Context(), loadtest.Gauges{Objects: objects, Round: round}); pushErr != nil {
				return
			}
			rounds.Add(1)
		}
	})
	// Expfmt's parser holds a whole exposition as protobufs (a few hundred MB for 250k series):
	// at most 2 parse at once (2 cores); the scrapes themselves are not limited. The parsing
	// competes with the collector for the CPU, so the whole-body times below are the machine's.
	parsing := make(chan struct{}, 2)
	for i := range scrapers {
		gz := i%2 == 1
		wg.Go(func() {
			for ctx.Err() == nil {
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				began := time.Now()
				body, headers, err := fetchBodyTimed(col.metrics, gz)
				took := time.Since(began)
				inFlight.Add(-1)
				if err == nil {
					parsing <- struct{}{}
					var fams map[string]*dto.MetricFamily
					if fams, err = parseExposition(bytes.NewReader(body)); err == nil {
						err = checkLoadExposition(fams, series, "")
					}
					<-parsing
				}
				mu.Lock()
				headerTimes = append(headerTimes, headers)
				if gz {
					gzTime = append(gzTime, took)
				} else {
					plainTimes = append(plainTimes, took)
				}
				if err != nil {
					failures = append(failures, fmt.Sprintf("scrape (gzip %v) after %s: %v", gz, took, err))
				}
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			if rss, err := loadtest.RSS(col.Pid()); err == nil {
				mu.Lock()
				rssMax = max(rssMax, rss)
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	wg.Wait()
	rssAfter, hwm := rssOf(t, col.Pid()), hwmOf(t, col.Pid())

	all := append(append([]time.Duration{}, plainTimes...), gzTime...)
	figure(t, "250k series, %d scrapers for %s: first push %.1f s, %d full re-pushes during the scrapes; %d scrapes (%d plain, %d gzip), at most %d in flight at once, %d failed",
		scrapers, scraping, firstPush.Seconds(), rounds.Load(), len(all), len(plainTimes), len(gzTime), peak.Load(), len(failures))
	figure(t, "250k series, %d scrapers: whole body p50 %.3f s, p99 %.3f s (plain p50 %.3f s / p99 %.3f s, gzip p50 %.3f s / p99 %.3f s); response headers p50 %.3f s, p99 %.3f s",
		scrapers, loadtest.Percentile(all, 0.5).Seconds(), loadtest.Percentile(all, 0.99).Seconds(),
		loadtest.Percentile(plainTimes, 0.5).Seconds(), loadtest.Percentile(plainTimes, 0.99).Seconds(),
		loadtest.Percentile(gzTime, 0.5).Seconds(), loadtest.Percentile(gzTime, 0.99).Seconds(),
		loadtest.Percentile(headerTimes, 0.5).Seconds(), loadtest.Percentile(headerTimes, 0.99).Seconds())
	figure(t, "250k series, %d scrapers: RSS idle %.0f MiB, after the first push %.0f MiB, max sampled %.0f MiB, at the end %.0f MiB, VmHWM %.0f MiB",
		scrapers, mib(rssIdle), mib(rssLoaded), mib(rssMax), mib(rssAfter), mib(hwm))

	require.NoError(t, pushErr, "re-push during the scrapes")
	assert.Empty(t, failures, "incomplete or unparseable scrapes")
	assert.GreaterOrEqual(t, len(all), scrapers, "every scraper finished at least one scrape")
	assert.Positive(t, rounds.Load(), "no full re-push completed while scraping: the scrapes did not overlap updates")
	assert.False(t, col.Exited())
}

// TestFaultSeriesChurnStaysBounded pushes 1,000,000 distinct label sets over time: 100 rounds of
// 10,000 series, each round's series labelled generation=<round>, into prometheus_state with the
// shortest metric_expiration (1s), so old rounds expire while new ones arrive. A round starts
// every 400 ms, so the exporter holds the rounds of about the last 1-2 s (the expiry ticker runs
// every metric_expiration, a scrape expires too): tens of thousands of series, never the million.
func TestFaultSeriesChurnStaysBounded(t *testing.T) {
	faultCase(t)
	const (
		rounds    = 100
		objects   = 2_000
		perRound  = objects * loadtest.SeriesPerObject
		roundGap  = 400 * time.Millisecond
		liveBound = 200_000 // 20 rounds: far above the expiry window's, far below a leak's 500k at round 50
	)
	col := startLoadCollector(t, loadSetup{expiration: time.Second})
	generation := func(r int) string { return fmt.Sprintf("r%03d", r) }
	rssIdle := rssOf(t, col.Pid())

	type sample struct {
		round       int
		rss, series int64
	}
	var samples []sample
	exported := func() int64 {
		fams, _, err := fetchExposition(col.metrics, false)
		require.NoError(t, err)
		return int64(exportedSeries(fams))
	}
	began := time.Now()
	for r := 1; r <= rounds; r++ {
		start := time.Now()
		require.NoError(t, col.pusher.Push(t.Context(), loadtest.Gauges{Objects: objects, Round: r, Generation: generation(r)}), "round %d", r)
		if r == 10 || r == 50 || r == 100 {
			s := sample{round: r, rss: rssOf(t, col.Pid()), series: exported()}
			samples = append(samples, s)
			assert.LessOrEqual(t, s.series, int64(liveBound), "series exported after round %d", r)
		}
		time.Sleep(time.Until(start.Add(roundGap)))
	}
	churn := time.Since(began)

	// Quiet: no new label sets for 4 s; the last round is pushed again (same label sets) so it
	// stays, everything older expires.
	last := loadtest.Gauges{Objects: objects, Round: rounds, Generation: generation(rounds)}
	for quiet := time.Now(); time.Since(quiet) < 4*time.Second; time.Sleep(250 * time.Millisecond) {
		require.NoError(t, col.pusher.Push(t.Context(), last))
	}
	// The final scrape right after a push of the last round (retried: a scrape more than 1 s
	// after that push on a stalled machine finds the last round expired too).
	var final map[string]*dto.MetricFamily
	var finalErr error
	ok := assert.Eventually(t, func() bool {
		if finalErr = col.pusher.Push(t.Context(), last); finalErr != nil {
			return false
		}
		fams, _, err := fetchExposition(col.metrics, false)
		if err != nil {
			finalErr = err
			return false
		}
		final, finalErr = fams, checkLoadExposition(fams, perRound, generation(rounds))
		return finalErr == nil
	}, waitFor, 100*time.Millisecond)
	require.True(t, ok, "after the quiet period /metrics does not hold exactly the last round's %d series: %v", perRound, finalErr)
	rssFinal, hwm := rssOf(t, col.Pid()), hwmOf(t, col.Pid())

	for _, s := range samples {
		figure(t, "series churn: after round %d (%d label sets pushed): RSS %.0f MiB, %d series exported", s.round, s.round*perRound, mib(s.rss), s.series)
	}
	figure(t, "series churn: %d label sets in %.1f s; RSS idle %.0f MiB, after the quiet period %.0f MiB with %.0f series, VmHWM %.0f MiB",
		rounds*perRound, churn.Seconds(), mib(rssIdle), mib(rssFinal), exportedSeries(final), mib(hwm))

	// A leak of the expired series would be ~1M series, hundreds of MiB (docs/benchmarks.md:
	// 250k series ≈ 200 MiB): the bounds allow the garbage of churn, not the million.
	require.Len(t, samples, 3)
	at10, at100 := samples[0].rss, samples[2].rss
	const slack = 48 << 20
	assert.LessOrEqual(t, at100, at10*3/2+slack, "RSS after round 100 vs round 10")
	assert.LessOrEqual(t, rssFinal, at10*3/2+slack, "RSS after the quiet period vs round 10")
	assert.False(t, col.Exited())
}

// TestFaultMemoryLimit runs the collector with GOMEMLIMIT=256MiB and memory_limiter (limit 256
// MiB, spike 50 MiB: it refuses above 206 MiB of heap) in front of prometheus_state, and pushes
// 250,000 series again and again from three clients. The process must survive (still serving
// /metrics and /livez), and whatever was refused must be what the collector's own telemetry
// counts: the client sees Unavailable for each refused request.
func TestFaultMemoryLimit(t *testing.T) {
	faultCase(t)
	const (
		objects    = 50_000
		series     = objects * loadtest.SeriesPerObject
		pushers    = 3
		pushRounds = 8 // per pusher: 6,000,000 points in all
	)
	telemetryPort, statusPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	col := startLoadCollector(t, loadSetup{
		processors: `  memory_limiter:
    check_interval: 100ms
    limit_mib: 256
    spike_limit_mib: 50
`,
		processorIDs:  "memory_limiter",
		telemetryPort: telemetryPort,
		statusPort:    statusPort,
		env:           []string{"GOMEMLIMIT=256MiB"},
	})
	telemetryURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", telemetryPort)
	statusURL := fmt.Sprintf("http://127.0.0.1:%d", statusPort)
	rssIdle := rssOf(t, col.Pid())

	var (
		accepted, refused atomic.Int64 // data points, as the client saw them
		acceptedRequests  atomic.Int64
		refusedRequests   atomic.Int64
		codesSeen         sync.Map // gRPC code → requests
		otherErrs         []string
		mu                sync.Mutex
		wg                sync.WaitGroup
	)
	// /livez is probed every 500 ms while the pushes run: the process stays live throughout.
	client := &http.Client{Timeout: 10 * time.Second}
	pushed := make(chan struct{})
	var probes []tlstest.Response
	var probeWG sync.WaitGroup
	probeWG.Go(func() {
		for {
			probes = append(probes, tlstest.Get(client, statusURL+"/livez", ""))
			select {
			case <-pushed:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	began := time.Now()
	for p := range pushers {
		wg.Go(func() {
			for round := range pushRounds {
				for _, md := range (loadtest.Gauges{Objects: objects, Round: p*pushRounds + round}).Batches() {
					points := int64(md.DataPointCount())
					err := col.pusher.Export(t.Context(), md)
					code := status.Code(err)
					n, _ := codesSeen.LoadOrStore(code, new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
					switch code {
					case codes.OK:
						accepted.Add(points)
						acceptedRequests.Add(1)
					case codes.Unavailable, codes.ResourceExhausted:
						refused.Add(points)
						refusedRequests.Add(1)
					default:
						mu.Lock()
						otherErrs = append(otherErrs, err.Error())
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	pushing := time.Since(began)
	close(pushed)
	probeWG.Wait()
	var probeFailures []string
	for i, r := range probes {
		if r.Err != nil || r.Status != http.StatusOK {
			probeFailures = append(probeFailures, fmt.Sprintf("probe %d: status %d, err %v", i, r.Status, r.Err))
		}
	}

	// Survival: the process runs, answers /livez and serves a complete, parseable /metrics.
	require.False(t, col.Exited(), "the collector exited under memory pressure:\n%s", col.Output())
	live := tlstest.Get(client, statusURL+"/livez", "")
	assert.Equal(t, http.StatusOK, live.Status, "/livez: %+v", live)
	fams, scrapeTook, err := fetchExposition(col.metrics, false)
	require.NoError(t, err, "/metrics after the pushes")
	exported := int(exportedSeries(fams))
	assert.LessOrEqual(t, exported, series, "series exported")
	rssEnd, hwm := rssOf(t, col.Pid()), hwmOf(t, col.Pid())

	// What the collector counted (service.telemetry, Prometheus names: counters end in _total).
	tel, err := otelcoltest.Scrape(telemetryURL)
	require.NoError(t, err)
	sum := func(name string) (float64, bool) {
		total, found := 0.0, false
		for key, v := range tel {
			if n, _, _ := strings.Cut(key, "{"); n == name || n == name+"_total" {
				total, found = total+v, true
				t.Logf("telemetry: %s %v", key, v)
			}
		}
		return total, found
	}
	recvAccepted, okRA := sum("otelcol_receiver_accepted_metric_points")
	recvRefused, okRR := sum("otelcol_receiver_refused_metric_points")
	recvFailed, _ := sum("otelcol_receiver_failed_metric_points")
	// The memory limiter's counters appear with their first accepted / refused point.
	mlAccepted, okMA := sum("otelcol_processor_memory_limiter_accepted_metric_points")
	mlRefused, _ := sum("otelcol_processor_memory_limiter_refused_metric_points")

	var codeCounts []string
	codesSeen.Range(func(k, v any) bool {
		codeCounts = append(codeCounts, fmt.Sprintf("%s: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	figure(t, "memory limit: %d × 250k points from %d clients in %.1f s: %d requests accepted (%d points), %d refused (%d points) %v, %d other errors",
		pushers*pushRounds, pushers, pushing.Seconds(), acceptedRequests.Load(), accepted.Load(), refusedRequests.Load(), refused.Load(), codeCounts, len(otherErrs))
	figure(t, "memory limit: the collector counted receiver accepted %.0f / refused %.0f / failed %.0f points, memory_limiter accepted %.0f / refused %.0f",
		recvAccepted, recvRefused, recvFailed, mlAccepted, mlRefused)
	figure(t, "memory limit: GOMEMLIMIT=256MiB: RSS idle %.0f MiB, at the end %.0f MiB, VmHWM %.0f MiB; /livez during the pushes %d/%d × 200; afterwards /livez %d, /metrics %d series in %.3f s",
		mib(rssIdle), mib(rssEnd), mib(hwm), len(probes)-len(probeFailures), len(probes), live.Status, exported, scrapeTook.Seconds())

	assert.Empty(t, probeFailures, "/livez during the pushes")
	assert.Empty(t, otherErrs, "push errors other than a refusal")
	require.True(t, okRA && okRR, "the receiver's counters are missing from the collector's telemetry: %v", tel)
	require.True(t, okMA || accepted.Load() == 0, "the memory limiter's accepted counter is missing from the collector's telemetry: %v", tel)
	// The client's view and the collector's agree, point for point: the receiver counts what it
	// answered OK as accepted and what it answered with an error as refused; the memory limiter
	// is the only component that refuses (prometheus_state never fails a push).
	assert.Equal(t, float64(accepted.Load()), recvAccepted, "points the client had accepted vs the receiver's count")
	assert.Equal(t, float64(refused.Load()), recvRefused, "points the client saw refused vs the receiver's count")
	assert.Zero(t, recvFailed, "receiver failures (not refusals)")
	assert.Equal(t, recvAccepted, mlAccepted, "points the memory limiter let through vs the receiver's accepted")
	assert.Equal(t, recvRefused, mlRefused, "points the memory limiter refused vs the receiver's refused")
	if refused.Load() > 0 {
		assert.Contains(t, col.Output(), "Refusing data", "the memory limiter's log names the refusals")
	}
	assert.False(t, col.Exited())
}

// loadSetup is a collector with an OTLP gRPC receiver into prometheus_state, both on loopback.
type loadSetup struct {
	expiration    time.Duration // metric_expiration; 0: the default (5m)
	processors    string        // the processors: block, each line indented by 2; "" for none
	processorIDs  string        // the pipeline's processors
	telemetryPort int           // the collector's own metrics in Prometheus format there; 0: none
	statusPort    int           // the status extension there; 0: none
	env           []string      // the process' extra environment
}

type loadCollector struct {
	*otelcoltest.Process
	metrics string // the /metrics URL
	pusher  *loadtest.Pusher
}

func startLoadCollector(t *testing.T, s loadSetup) *loadCollector {
	t.Helper()
	otlpPort, metricsPort := otelcoltest.FreePort(t), otelcoltest.FreePort(t)
	expiration, processors, pipelineProcessors, extensions, serviceExtensions := "", "", "", "", ""
	if s.expiration > 0 {
		expiration = "    metric_expiration: " + s.expiration.String() + "\n"
	}
	if s.processors != "" {
		processors = "processors:\n" + s.processors
		pipelineProcessors = "      processors: [" + s.processorIDs + "]\n"
	}
	if s.statusPort != 0 {
		extensions = fmt.Sprintf("extensions:\n  status:\n    endpoint: 127.0.0.1:%d\n", s.statusPort)
		serviceExtensions = "  extensions: [status]\n"
	}
	telemetry := "    metrics:\n      level: none\n"
	if s.telemetryPort != 0 {
		telemetry = fmt.Sprintf(`    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`, s.telemetryPort)
	}
	cfg := writeConfig(t, fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
        max_recv_msg_size_mib: 64
%sexporters:
  prometheus_state:
    endpoint: 127.0.0.1:%d
    namespace: sealos
    without_scope_info: true
    write_timeout: 5m # confighttp's 30s would cut off scrapes slowed by the load
%s%sservice:
%s  telemetry:
%s    logs:
      level: info
  pipelines:
    metrics:
      receivers: [otlp]
%s      exporters: [prometheus_state]
`, otlpPort, processors, metricsPort, expiration, extensions, serviceExtensions, telemetry, pipelineProcessors))
	col := &loadCollector{Process: otelcoltest.StartWithEnv(t, cfg, s.env), metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)}
	require.Eventually(t, func() bool {
		_, err := fetchBody(col.metrics, false)
		return err == nil || col.Exited()
	}, waitFor, 100*time.Millisecond, "/metrics never answered")
	require.False(t, col.Exited(), "the collector exited:\n%s", col.Output())
	conn, err := loadtest.Dial(fmt.Sprintf("127.0.0.1:%d", otlpPort))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	col.pusher = loadtest.NewPusher(conn)
	col.pusher.Timeout = 2 * time.Minute
	return col
}

// fetchBody GETs a /metrics URL and returns the whole body (decompressed, with gzip: the
// transport asks for gzip and must get it).
func fetchBody(url string, gz bool) ([]byte, error) {
	body, _, err := fetchBodyTimed(url, gz)
	return body, err
}

// fetchBodyTimed is fetchBody and the time to the response's headers.
func fetchBodyTimed(url string, gz bool) ([]byte, time.Duration, error) {
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableCompression: !gz}}
	defer client.CloseIdleConnections()
	began := time.Now()
	resp, err := client.Get(url)
	headers := time.Since(began)
	if err != nil {
		return nil, headers, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, headers, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if gz && !resp.Uncompressed {
		return nil, headers, errors.New("asked for gzip, got an uncompressed body")
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.ContentLength >= 0 && !gz && int64(len(body)) != resp.ContentLength {
		err = fmt.Errorf("body of %d bytes, Content-Length %d", len(body), resp.ContentLength)
	}
	return body, headers, err
}

// fetchExposition is fetchBody, parsed; took is the fetch alone.
func fetchExposition(url string, gz bool) (map[string]*dto.MetricFamily, time.Duration, error) {
	began := time.Now()
	body, err := fetchBody(url, gz)
	took := time.Since(began)
	if err != nil {
		return nil, took, err
	}
	fams, err := parseExposition(bytes.NewReader(body))
	return fams, took, err
}

func parseExposition(r io.Reader) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(r)
}

// loadFamilies are the exported families of loadtest.Gauges (namespace sealos, unitless gauges).
var loadFamilies = []string{"sealos_kubeblocks_cluster_info", "sealos_kubeblocks_cluster_replicas", "sealos_kubeblocks_cluster_phase", "sealos_kubeblocks_cluster_condition"}

// prometheus_state's self-metrics: dropped_points_total for each of its 6 reasons, the duplicate
// counter and the series gauge (exporter/prometheusstateexporter/http.go).
var loadSelfSeries = map[string]int{
	"prometheus_state_exporter_dropped_points_total":   6,
	"prometheus_state_exporter_duplicate_series_total": 1,
	"prometheus_state_exporter_series":                 1,
}

// checkLoadExposition: exactly the loadtest families with want series in all (want/5 of each but
// the condition's two per object), each with generation=gen when gen is set, plus the exporter's 8
// self series, its series gauge saying want; nothing else.
func checkLoadExposition(fams map[string]*dto.MetricFamily, want int, gen string) error {
	var errs []error
	total := 0
	for _, name := range loadFamilies {
		f := fams[name]
		wantHere := want / loadtest.SeriesPerObject
		if strings.HasSuffix(name, "_condition") {
			wantHere *= 2
		}
		if n := len(f.GetMetric()); n != wantHere {
			errs = append(errs, fmt.Errorf("%s: %d series, want %d", name, n, wantHere))
		}
		total += len(f.GetMetric())
		if gen == "" {
			continue
		}
		for _, m := range f.GetMetric() {
			if g := labelValue(m, "generation"); g != gen {
				errs = append(errs, fmt.Errorf("%s: a series of generation %q, want only %q", name, g, gen))
				break
			}
		}
	}
	self := 0
	for name, n := range loadSelfSeries {
		if got := len(fams[name].GetMetric()); got != n {
			errs = append(errs, fmt.Errorf("%s: %d series, want %d", name, got, n))
		}
		self += len(fams[name].GetMetric())
	}
	all := 0
	for name, f := range fams {
		all += len(f.GetMetric())
		if _, ok := loadSelfSeries[name]; !ok && !strings.HasPrefix(name, "sealos_kubeblocks_cluster_") {
			errs = append(errs, fmt.Errorf("unexpected family %s", name))
		}
	}
	if all != want+self || total != want {
		errs = append(errs, fmt.Errorf("%d series in all, want %d + %d self series", all, want, self))
	}
	if ms := fams["prometheus_state_exporter_series"].GetMetric(); len(ms) == 1 && ms[0].GetGauge().GetValue() != float64(want) {
		errs = append(errs, fmt.Errorf("prometheus_state_exporter_series says %v, want %d", ms[0].GetGauge().GetValue(), want))
	}
	return errors.Join(errs...)
}

// exportedSeries is prometheus_state_exporter_series, -1 when absent.
func exportedSeries(fams map[string]*dto.MetricFamily) float64 {
	if ms := fams["prometheus_state_exporter_series"].GetMetric(); len(ms) == 1 {
		return ms[0].GetGauge().GetValue()
	}
	return -1
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	v, err := loadtest.RSS(pid)
	require.NoError(t, err)
	return v
}

func hwmOf(t *testing.T, pid int) int64 {
	t.Helper()
	v, err := loadtest.HWM(pid)
	require.NoError(t, err)
	return v
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
