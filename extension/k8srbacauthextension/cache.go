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
	expires time.Time
}

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

func (c *decisionCache) get(k cacheKey) (result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return result{}, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, k)
		return result{}, false
	}
	c.order.MoveToFront(el)
	return e.result, true
}

func (c *decisionCache) put(k cacheKey, r result, ttl time.Duration) {
	if c.size == 0 || ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		e := el.Value.(*cacheEntry)
		e.result, e.expires = r, c.now().Add(ttl)
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*cacheEntry).key)
	}
	c.items[k] = c.order.PushFront(&cacheEntry{key: k, result: r, expires: c.now().Add(ttl)})
}

func (c *decisionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
