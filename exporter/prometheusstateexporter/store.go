package prometheusstateexporter

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"
)

// series is one label set of a family, kept rendered.
type series struct {
	body   []byte // the series' exposition lines
	origin uint64 // producer (resource + scope) that wrote it last, for duplicate detection
	seen   int64  // unix nanos of the last update, for expiry
	ts     int64  // data point timestamp: older points are ignored
	// State kept only to accumulate delta temporality as contrib does.
	start int64
	value float64
	hist  *histState
}

// family is one metric name: its header and its series. A scrape reads buf, which is rebuilt
// only after a series changed; buf is never modified in place (a scrape may still write it).
type family struct {
	mu       sync.Mutex
	name     string
	typ      string // exposition type: gauge, counter, histogram, summary, untyped
	header   []byte
	series   map[string]*series // by rendered label set
	keys     []string           // sorted label sets; nil after a series was added or removed
	buf      []byte             // header + bodies in key order; nil when stale
	minSeen  int64              // lower bound of series' seen, to skip expiry sweeps
	removed  bool               // dropped from the store: writers must look it up again
	onChange func()
}

func (f *family) invalidate(membership bool) {
	f.buf = nil
	if membership {
		f.keys = nil
	}
	f.onChange()
}

// bytes returns the family's exposition text; callers must not modify it.
func (f *family) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.buf != nil || len(f.series) == 0 {
		return f.buf
	}
	if f.keys == nil {
		f.keys = make([]string, 0, len(f.series))
		for k := range f.series {
			f.keys = append(f.keys, k)
		}
		slices.Sort(f.keys)
	}
	size := len(f.header)
	for _, s := range f.series {
		size += len(s.body)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, f.header...)
	for _, k := range f.keys {
		buf = append(buf, f.series[k].body...)
	}
	f.buf = buf
	return buf
}

// put stores a rendered series (s is the existing one for key, or nil); the caller holds f.mu.
// It reports whether another producer's series with the same label set was replaced.
func (f *family) put(s *series, key string, body []byte, origin uint64, now int64) (_ *series, duplicate bool) {
	if s == nil {
		s = &series{}
		f.series[key] = s
		if now < f.minSeen || len(f.series) == 1 {
			f.minSeen = now
		}
		f.invalidate(true)
	} else {
		duplicate = s.origin != origin
		if !bytes.Equal(s.body, body) {
			f.invalidate(false)
		}
	}
	s.body = body
	s.origin = origin
	s.seen = now
	return s, duplicate
}

func (f *family) delete(key string) {
	if _, ok := f.series[key]; ok {
		delete(f.series, key)
		f.invalidate(true)
	}
}

// expire removes series not seen since cutoff; the caller holds f.mu.
func (f *family) expire(cutoff int64) {
	if f.minSeen >= cutoff {
		return
	}
	minSeen := int64(0)
	for k, s := range f.series {
		if s.seen < cutoff {
			delete(f.series, k)
			f.invalidate(true)
			continue
		}
		if minSeen == 0 || s.seen < minSeen {
			minSeen = s.seen
		}
	}
	f.minSeen = minSeen
}

// store holds every family. Lock order: store.mu before family.mu; writers never hold a
// family lock while taking store.mu.
type store struct {
	mu       sync.RWMutex
	families map[string]*family
	sorted   []*family // families by name; nil after the set changed
	gen      atomic.Uint64
}

func newStore() *store {
	return &store{families: map[string]*family{}}
}

func (s *store) changed() { s.gen.Add(1) }

// lockFamily returns the family locked, creating it with typ and help if missing. ok is false
// when the family exists with another type (the caller drops the metric, as contrib does).
func (s *store) lockFamily(name, typ, help string) (f *family, ok bool) {
	for {
		s.mu.RLock()
		f = s.families[name]
		s.mu.RUnlock()
		if f == nil {
			s.mu.Lock()
			if f = s.families[name]; f == nil {
				f = &family{name: name, typ: typ, header: familyHeader(name, help, typ), series: map[string]*series{}, onChange: s.changed}
				s.families[name] = f
				s.sorted = nil
				s.changed()
			}
			s.mu.Unlock()
		}
		f.mu.Lock()
		if f.removed {
			f.mu.Unlock()
			continue
		}
		if f.typ != typ {
			f.mu.Unlock()
			return nil, false
		}
		return f, true
	}
}

// snapshot returns the families sorted by name.
func (s *store) snapshot() []*family {
	s.mu.RLock()
	sorted := s.sorted
	s.mu.RUnlock()
	if sorted != nil {
		return sorted
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sorted == nil {
		s.sorted = make([]*family, 0, len(s.families))
		for _, f := range s.families {
			s.sorted = append(s.sorted, f)
		}
		slices.SortFunc(s.sorted, func(a, b *family) int {
			switch {
			case a.name < b.name:
				return -1
			case a.name > b.name:
				return 1
			}
			return 0
		})
	}
	return s.sorted
}

// expire drops series older than cutoff and families left empty.
func (s *store) expire(cutoff int64) {
	empty := false
	for _, f := range s.snapshot() {
		f.mu.Lock()
		f.expire(cutoff)
		empty = empty || len(f.series) == 0
		f.mu.Unlock()
	}
	if empty {
		s.dropEmpty()
	}
}

func (s *store) dropEmpty() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, f := range s.families {
		f.mu.Lock()
		if len(f.series) == 0 {
			f.removed = true
			delete(s.families, name)
			s.sorted = nil
			s.changed()
		}
		f.mu.Unlock()
	}
}

// seriesCount is the number of series held (self-metric).
func (s *store) seriesCount() int {
	n := 0
	for _, f := range s.snapshot() {
		f.mu.Lock()
		n += len(f.series)
		f.mu.Unlock()
	}
	return n
}
