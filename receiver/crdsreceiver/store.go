package crdsreceiver

import (
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/types"
)

// resourceStore holds one resource's precomputed series: uid → objectSeries, the count
// families' per-value object counts (kept incrementally), and how many points each family has
// (to size the next emission exactly).
type resourceStore struct {
	spec *resourceSpec
	in   interner

	mu      sync.RWMutex
	objects map[types.UID]*objectSeries
	counts  []map[string]*countEntry // by count index
	points  []int                    // data points per family

	valueErrors []atomic.Int64 // by family, cumulative
	up          atomic.Bool    // every watch of the current term has listed its objects
	// counted: the resourceVersion whose value errors are in valueErrors, per object with errors.
	// It outlives reset, so a relist or a new leadership term does not count an unchanged object
	// again; deletions and pruneCounted keep it to the objects held.
	counted map[types.UID]string
}

type countEntry struct {
	labels []string
	n      int64
}

func newResourceStore(spec *resourceSpec) *resourceStore {
	s := &resourceStore{spec: spec, valueErrors: make([]atomic.Int64, len(spec.families)), counted: map[types.UID]string{}}
	s.reset()
	return s
}

// reset forgets every object (a leadership term ended; the next one lists again).
func (s *resourceStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up.Store(false)
	s.objects = map[types.UID]*objectSeries{}
	s.counts = make([]map[string]*countEntry, s.spec.countFamilies)
	for i := range s.counts {
		s.counts[i] = map[string]*countEntry{}
	}
	s.points = make([]int, len(s.spec.families))
}

// set adds or replaces an object's series.
func (s *resourceStore) set(o *objectSeries) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev := s.objects[o.uid]; prev != nil {
		if prev.resourceVersion == o.resourceVersion && prev.resourceVersion != "" {
			return // a resync or relist of an unchanged object
		}
		s.account(prev, -1)
	}
	s.objects[o.uid] = o
	s.account(o, 1)
	s.countValueErrors(o)
}

// countValueErrors adds o's value errors unless this version of o was counted before.
func (s *resourceStore) countValueErrors(o *objectSeries) {
	if len(o.valueErrors) == 0 {
		delete(s.counted, o.uid)
		return
	}
	if rv, ok := s.counted[o.uid]; ok && rv == o.resourceVersion && rv != "" {
		return
	}
	for _, e := range o.valueErrors {
		s.valueErrors[e.family].Add(int64(e.n))
	}
	s.counted[o.uid] = o.resourceVersion
}

// pruneCounted forgets objects deleted while nobody watched: called once every watch of a term
// has listed, when the objects held are the whole resource.
func (s *resourceStore) pruneCounted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for uid := range s.counted {
		if _, held := s.objects[uid]; !held {
			delete(s.counted, uid)
		}
	}
}

// remove deletes an object's series.
func (s *resourceStore) remove(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev := s.objects[uid]; prev != nil {
		s.account(prev, -1)
		delete(s.objects, uid)
	}
	delete(s.counted, uid)
}

// account adds (sign 1) or subtracts (sign -1) an object's points and counts.
func (s *resourceStore) account(o *objectSeries, sign int64) {
	for _, p := range o.points {
		s.points[p.family] += int(sign)
	}
	for ci, key := range o.countKeys {
		if key == "" {
			continue
		}
		e := s.counts[ci][key]
		if e == nil {
			if sign < 0 {
				continue
			}
			e = &countEntry{labels: strings.Split(key, "\xff")}
			s.counts[ci][key] = e
		}
		e.n += sign
		if e.n <= 0 {
			delete(s.counts[ci], key)
		}
	}
}
