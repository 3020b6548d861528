package crdsreceiver

import (
	"errors"
	"math"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/labring/otelcol-sealos/receiver/crdsreceiver/internal/fieldpath"
	"github.com/labring/otelcol-sealos/receiver/crdsreceiver/internal/value"
)

// objectSeries is all an object leaves in the informer cache: its identity and its precomputed
// series. The informer's transform builds it from the full object, which is then dropped, so the
// cache holds no object fields at all.
type objectSeries struct {
	name, namespace, resourceVersion string
	uid                              types.UID
	// vals holds the common label values first, then each point's own label values.
	vals   []string
	points []point
	// countKeys has one entry per count family of the resource ("" when not counted).
	countKeys []string
	// valueErrors counts, by family, the series skipped because their value could not be read;
	// the store adds them to crds.value_errors once per object version.
	valueErrors []familyErrors
}

type familyErrors struct {
	family uint16
	n      uint32
}

// point is one data point: family index, its own label values vals[lo:hi], and its value.
type point struct {
	family uint16
	lo, hi uint16
	value  float64
}

// GetObjectMeta lets the informer key the object (meta.Accessor) without storing a full ObjectMeta.
func (o *objectSeries) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: o.name, Namespace: o.namespace, UID: o.uid, ResourceVersion: o.resourceVersion}
}

// GetObjectKind and DeepCopyObject make it a runtime.Object; it is immutable, so a copy is itself.
func (*objectSeries) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns o: objectSeries is never modified after the transform built it.
func (o *objectSeries) DeepCopyObject() runtime.Object { return o }

// interner shares equal label values (phases, condition types, ...) between objects. It stops
// growing at a bound so unique values (names, uids) cannot make it a leak.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

const internLimit = 1 << 14

func (in *interner) intern(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) < internLimit {
		s = strings.Clone(s) // do not pin the decoded object's memory
		in.m[s] = s
	}
	return s
}

// compute turns one object into its series. It never panics on unexpected field types: every
// read goes through fieldpath.Get and type switches.
func (r *resourceSpec) compute(obj map[string]any, in *interner) *objectSeries {
	o := &objectSeries{}
	if md, ok := obj["metadata"].(map[string]any); ok {
		o.name, _ = md["name"].(string)
		o.namespace, _ = md["namespace"].(string)
		o.resourceVersion, _ = md["resourceVersion"].(string)
		uid, _ := md["uid"].(string)
		o.uid = types.UID(uid)
	}
	o.vals = make([]string, 0, len(r.commonPaths)+2*len(r.families))
	for _, p := range r.commonPaths {
		o.vals = append(o.vals, in.intern(scalarAt(p, obj)))
	}
	if r.countFamilies > 0 {
		o.countKeys = make([]string, r.countFamilies)
	}
	for fi := range r.families {
		r.computeFamily(o, fi, obj, in)
	}
	return o
}

// valueError notes a series skipped because its value could not be read (err says why).
func (o *objectSeries) valueError(fi int, _ error) {
	// Families are computed one after the other: only the last entry can be this family's.
	if n := len(o.valueErrors); n > 0 && o.valueErrors[n-1].family == uint16(fi) {
		o.valueErrors[n-1].n++
		return
	}
	o.valueErrors = append(o.valueErrors, familyErrors{family: uint16(fi), n: 1})
}

func (o *objectSeries) add(fi int, v float64, labels ...string) {
	lo := len(o.vals)
	if lo+len(labels) > math.MaxUint16 {
		return // absurdly large object (a map with tens of thousands of entries): keep what fits
	}
	o.vals = append(o.vals, labels...)
	o.points = append(o.points, point{family: uint16(fi), lo: uint16(lo), hi: uint16(len(o.vals)), value: v})
}

var errNotList = errors.New("not a list")

func (r *resourceSpec) computeFamily(o *objectSeries, fi int, obj map[string]any, in *interner) {
	f := &r.families[fi]
	switch f.typ {
	case TypeInfo:
		labels := make([]string, len(f.labelPaths))
		for i, p := range f.labelPaths {
			labels[i] = in.intern(scalarAt(p, obj))
		}
		o.add(fi, 1, labels...)
	case TypeGauge:
		v, ok := f.path.Get(obj)
		if n, err := number(v, ok, f.nilIsZero); err != nil {
			o.valueError(fi, err)
		} else {
			o.add(fi, n)
		}
	case TypeCount:
		v := scalarAt(f.path, obj)
		if v == "" {
			return
		}
		labels := make([]string, 0, len(f.labelPaths)+1)
		for _, p := range f.labelPaths {
			labels = append(labels, scalarAt(p, obj))
		}
		o.countKeys[f.countIndex] = in.intern(strings.Join(append(labels, v), "\xff"))
	case TypeStringState:
		v, ok := f.path.Get(obj)
		s, err := str(v, ok)
		if err != nil {
			o.valueError(fi, err)
			return
		}
		o.add(fi, 1, in.intern(s))
	case TypeMapState, TypeMapGauge:
		r.computeMap(o, fi, obj, in)
	case TypeConditions:
		v, ok := f.path.Get(obj)
		list, isList := v.([]any)
		if !ok || !isList {
			o.valueError(fi, missingOr(ok, errNotList))
			return
		}
		for _, e := range list {
			c, isMap := e.(map[string]any)
			if !isMap {
				o.valueError(fi, errors.New("condition is not an object"))
				continue
			}
			typ := fieldpath.Scalar(c[f.cond.TypeField])
			if typ == "" {
				continue
			}
			status := fieldpath.Scalar(c[f.cond.StatusField])
			n := 0.0
			if strings.EqualFold(status, "true") {
				n = 1
			}
			o.add(fi, n, in.intern(typ), in.intern(status), in.intern(fieldpath.Scalar(c[f.cond.ReasonField])))
		}
	}
}

func (r *resourceSpec) computeMap(o *objectSeries, fi int, obj map[string]any, in *interner) {
	f := &r.families[fi]
	v, ok := f.path.Get(obj)
	m, isMap := v.(map[string]any)
	if !ok || !isMap {
		o.valueError(fi, missingOr(ok, errors.New("not a map")))
		return
	}
	for k, e := range m {
		ev, eok := f.valuePath.Get(e)
		if f.typ == TypeMapState {
			s, err := str(ev, eok)
			switch {
			case err != nil:
				o.valueError(fi, err)
			case s != "":
				o.add(fi, 1, in.intern(k), in.intern(s))
			}
			continue
		}
		n, err := number(ev, eok, f.nilIsZero)
		if err != nil {
			o.valueError(fi, err)
			continue
		}
		o.add(fi, n, in.intern(k))
	}
}

func missingOr(found bool, err error) error {
	if !found {
		return value.ErrMissing
	}
	return err
}

// number reads a gauge value; a missing or null field is 0 with nil_is_zero, else an error.
func number(v any, found, nilIsZero bool) (float64, error) {
	if !found || v == nil {
		if nilIsZero {
			return 0, nil
		}
		return 0, value.ErrMissing
	}
	return value.Parse(v)
}

// str reads a state: a scalar rendered as a string; maps, lists and missing fields are errors.
func str(v any, found bool) (string, error) {
	if !found || v == nil {
		return "", value.ErrMissing
	}
	switch v.(type) {
	case map[string]any, []any:
		return "", errors.New("not a scalar")
	}
	return fieldpath.Scalar(v), nil
}

// scalarAt is the label value at p: "" when missing or not a scalar (as the predecessor did).
func scalarAt(p fieldpath.Path, obj map[string]any) string {
	v, _ := p.Get(obj)
	return fieldpath.Scalar(v)
}
