package k8srbacauthextension

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tokenReviews          = "POST tokenreviews"
	subjectAccessReviews  = "POST subjectaccessreviews"
	jwtHeader             = "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9" // {"alg":"RS256","kid":""}
	wellFormedButRejected = jwtHeader + ".eyJzdWIiOiJub2JvZHkifQ.c2lnbmF0dXJl"
)

// madeUpJWT is a JWT-shaped token no API server accepts, different on every call.
func madeUpJWT() string {
	return jwtHeader + "." + rand.Text() + "." + base64.RawURLEncoding.EncodeToString([]byte(rand.Text()))
}

func TestPlausibleTokens(t *testing.T) {
	jwtOnly, anyToken := &reviewer{jwtOnly: true}, &reviewer{}
	for token, want := range map[string]bool{
		wellFormedButRejected: true,
		madeUpJWT():           true,
		"":                    false,
		"not-a-token":         false,
		"a.b":                 false,
		jwtHeader + ".b.c.d":  false,
		jwtHeader + "..c":     false,
		jwtHeader + ".b.":     false,
		jwtHeader + ".b+/.c":  false, // base64, not base64url
		jwtHeader + "=.b.c":   false, // padded
		"YWJj.b.c":            false, // the header is "abc", not a JSON object
		"e30.b.c":             true,  // {}
		jwtHeader + ".b." + strings.Repeat("s", maxTokenBytes): false,
	} {
		assert.Equal(t, want, jwtOnly.plausible(token), "%.60q", token)
	}
	assert.True(t, anyToken.plausible("opaque-static-token"), "jwt_only: false accepts opaque tokens")
	assert.False(t, anyToken.plausible(strings.Repeat("s", maxTokenBytes+1)), "the length bound holds for every token")
}

// Counted at the API server: tokens that cannot be JWTs cost no TokenReview, and a rejected one
// costs one however often it is sent (denials are cached).
func TestMalformedTokensCostNoReview(t *testing.T) {
	f := newRBACFixture(t)
	proxy := f.cluster.StartCountingProxy(t)
	ext, _ := f.startExtensionWith(t, newFakeClock(), func(c *Config) { c.KubeConfigPath = proxy.Kubeconfig })
	base := serve(t, ext, asMiddleware)

	for _, token := range []string{"not-a-token", "a.b", "a.b.c.d", "YWJj.b.c", jwtHeader + ".b." + strings.Repeat("s", maxTokenBytes)} {
		assert.Equal(t, http.StatusUnauthorized, get(t, base+"/metrics", token).status, "%.40q", token)
	}
	assert.Zero(t, proxy.Total(tokenReviews), "a malformed token was sent for review")

	for range 5 {
		assert.Equal(t, http.StatusUnauthorized, get(t, base+"/metrics", wellFormedButRejected).status)
	}
	assert.Equal(t, 1, proxy.Total(tokenReviews), "the denial was not cached")
	require.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status)
}

// A flood of made-up tokens must not starve a real scraper: its allowed answer, past allowed_ttl,
// is served while a renewal runs outside the flood's queue; the flood's reviews in flight stay
// within max_concurrent_reviews at the API server. Without both, the scraper's renewal waits
// behind the flood in the client's rate limiter (200 tokens at qps 20 are 8 s deep) and gets 503.
func TestFloodOfRandomTokensDoesNotStarveAKnownScraper(t *testing.T) {
	f := newRBACFixture(t)
	proxy := f.cluster.StartCountingProxy(t)
	clock := newFakeClock()
	ext, _ := f.startExtensionWith(t, clock, func(c *Config) {
		c.KubeConfigPath = proxy.Kubeconfig
		c.MaxConcurrentReviews = 2
	})
	base := serve(t, ext, asMiddleware)
	require.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status)
	require.Equal(t, 1, proxy.Total(subjectAccessReviews))
	clock.advance(ext.cfg.AllowedTTL) // the scraper's answer is due for renewal

	const flood = 200
	var wg sync.WaitGroup
	floodStatus := make(chan int, flood)
	for range flood {
		wg.Go(func() { floodStatus <- get(t, base+"/metrics", madeUpJWT()).status })
	}
	require.Eventually(t, func() bool { return proxy.Total(tokenReviews) > 2 }, waitForRenewal, time.Millisecond, "the flood never reached the API server")
	for i := range 10 {
		assert.Equal(t, http.StatusOK, get(t, base+"/metrics", f.readerToken).status, "scrape %d during the flood", i)
		time.Sleep(50 * time.Millisecond)
	}
	renewedDuringFlood := proxy.Total(subjectAccessReviews) == 2
	wg.Wait()
	close(floodStatus)

	for status := range floodStatus {
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusServiceUnavailable}, status)
	}
	assert.True(t, renewedDuringFlood, "the scraper's answer was not renewed while the flood ran")
	// Renewals take no slot: at most one of them besides the flood's slots.
	assert.LessOrEqual(t, proxy.Peak(tokenReviews), 2+1, "TokenReviews in flight at the API server")
	t.Logf("the API server saw %d TokenReviews for %d made-up tokens, at most %d at once", proxy.Total(tokenReviews)-1, flood, proxy.Peak(tokenReviews))
}
