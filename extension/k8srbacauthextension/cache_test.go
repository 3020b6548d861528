package k8srbacauthextension

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for cache expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCacheExpiresAfterTTLThenStalePeriod(t *testing.T) {
	clock := newFakeClock()
	c := newDecisionCache(10, clock.now)
	k := keyFor("token", "/metrics")
	c.put(k, result{decision: allowed}, time.Minute, 30*time.Second)

	clock.advance(59 * time.Second)
	got, state := c.get(k)
	require.Equal(t, fresh, state)
	assert.Equal(t, allowed, got.decision)

	clock.advance(time.Second)
	got, state = c.get(k)
	require.Equal(t, stale, state, "past its TTL the answer is still there, to serve while it is renewed")
	assert.Equal(t, allowed, got.decision)

	clock.advance(30 * time.Second)
	_, state = c.get(k)
	assert.Equal(t, missing, state, "an entry is gone once its stale period has passed")
	assert.Equal(t, 0, c.len(), "an expired entry is removed when found")

	c.put(k, result{decision: forbidden}, 10*time.Second, 0)
	clock.advance(10 * time.Second)
	_, state = c.get(k)
	assert.Equal(t, missing, state, "without a stale period the entry ends with its TTL")
}

func TestCacheBoundedDropsLeastRecentlyUsed(t *testing.T) {
	c := newDecisionCache(2, newFakeClock().now)
	a, b, d := keyFor("a", "/"), keyFor("b", "/"), keyFor("d", "/")
	c.put(a, result{decision: allowed}, time.Minute, 0)
	c.put(b, result{decision: forbidden}, time.Minute, 0)
	_, state := c.get(a) // a is now the most recently used
	require.Equal(t, fresh, state)
	c.put(d, result{decision: unauthenticated}, time.Minute, 0)

	assert.Equal(t, 2, c.len())
	_, state = c.get(b)
	assert.Equal(t, missing, state, "the least recently used entry is dropped")
	_, state = c.get(a)
	assert.Equal(t, fresh, state)
	_, state = c.get(d)
	assert.Equal(t, fresh, state)
}

func TestCacheDisabled(t *testing.T) {
	c := newDecisionCache(0, newFakeClock().now)
	c.put(keyFor("a", "/"), result{decision: allowed}, time.Minute, time.Minute)
	assert.Equal(t, 0, c.len())
}

func TestCacheKeySeparatesTokenAndPath(t *testing.T) {
	assert.NotEqual(t, keyFor("ab", "/c"), keyFor("a", "b/c"))
	assert.NotEqual(t, keyFor("t", "/metrics"), keyFor("t", "/other"))
	assert.Equal(t, keyFor("t", "/metrics"), keyFor("t", "/metrics"))
	k := keyFor("secret-token-value", "/metrics")
	assert.NotContains(t, string(k[:]), "secret-token-value", "the key is a hash, not the token")
}

func TestBearerToken(t *testing.T) {
	for name, tc := range map[string]struct {
		headers map[string][]string
		want    string
	}{
		"canonical":        {map[string][]string{"Authorization": {"Bearer abc"}}, "abc"},
		"lowercase grpc":   {map[string][]string{"authorization": {"bearer abc"}}, "abc"},
		"extra spaces":     {map[string][]string{"Authorization": {"  Bearer   abc  "}}, "abc"},
		"basic is ignored": {map[string][]string{"Authorization": {"Basic dXNlcjpwYXNz"}}, ""},
		"empty bearer":     {map[string][]string{"Authorization": {"Bearer "}}, ""},
		"no header":        {map[string][]string{"X-Other": {"Bearer abc"}}, ""},
		"second value":     {map[string][]string{"Authorization": {"Basic x", "Bearer abc"}}, "abc"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, bearerToken(tc.headers))
		})
	}
}
