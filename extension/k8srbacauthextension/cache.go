package k8srbacauthextension

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// cacheKey is a SHA-256 of token and path: the token itself is never kept.
type cacheKey [sha256.Size]byte

func keyFor(token, path string) cacheKey {
	h := sha256.New()
	h.Write([]byte(token))
	h.Write([]byte{0}) // separator: ("ab","/c") and ("a","b/c") must differ
	h.Write([]byte(path))
	var k cacheKey
	copy(k[:], h.Sum(nil))
	return k
}

type cacheEntry struct {
	key     cacheKey
	result  result
	expires time.Time // fresh until then
	stale   time.Time // then still served, while a review renews it, until this
}

// freshness is what get found.
type freshness int

const (
	missing freshness = iota
	fresh
	stale // past its TTL: usable while a review renews it
)

// decisionCache remembers review results for a while, bounded to size entries (least
// recently used dropped first). Safe for concurrent use.
type decisionCache struct {
	mu    sync.Mutex
	size  int
	order *list.List // front: most recently used
	items map[cacheKey]*list.Element
	now   func() time.Time
}

func newDecisionCache(size int, now func() time.Time) *decisionCache {
	return &decisionCache{size: size, order: list.New(), items: make(map[cacheKey]*list.Element), now: now}
}

func (c *decisionCache) get(k cacheKey) (result, freshness) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return result{}, missing
	}
	e := el.Value.(*cacheEntry)
	now := c.now()
	if !now.Before(e.stale) {
		c.order.Remove(el)
		delete(c.items, k)
		return result{}, missing
	}
	c.order.MoveToFront(el)
	if !now.Before(e.expires) {
		return e.result, stale
	}
	return e.result, fresh
}

// put remembers r for ttl, and for staleFor more while a renewal is under way.
func (c *decisionCache) put(k cacheKey, r result, ttl, staleFor time.Duration) {
	if c.size == 0 || ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	entry := &cacheEntry{key: k, result: r, expires: now.Add(ttl), stale: now.Add(ttl + staleFor)}
	if el, ok := c.items[k]; ok {
		el.Value = entry
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*cacheEntry).key)
	}
	c.items[k] = c.order.PushFront(entry)
}

func (c *decisionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
