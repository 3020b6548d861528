package databasereceiver

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// byService indexes EndpointSlices by namespace/service.
const byService = "service"

func indexByService(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	svc := s.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + svc}, nil
}

// trimPreflight keeps what preflight reads: the Service's name, the slices' ready flags.
func trimPreflight(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Service:
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, ResourceVersion: o.ResourceVersion}}, nil
	case *discoveryv1.EndpointSlice:
		eps := make([]discoveryv1.Endpoint, len(o.Endpoints))
		for i, e := range o.Endpoints {
			eps[i] = discoveryv1.Endpoint{Conditions: discoveryv1.EndpointConditions{Ready: e.Conditions.Ready}}
		}
		return &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, ResourceVersion: o.ResourceVersion,
				Labels: map[string]string{discoveryv1.LabelServiceName: o.Labels[discoveryv1.LabelServiceName]}},
			Endpoints: eps,
		}, nil
	default:
		return obj, nil
	}
}

// preflight explains a failure before dialling: no_service when the host's Service does not
// exist, no_endpoints when none of its endpoints is ready. IP hosts and external names pass.
func (w *watcher) preflight(t target) string {
	svc, ns := t.preflightService()
	if svc == "" {
		return errNone
	}
	w.mu.Lock()
	services, slices := w.services, w.slices
	w.mu.Unlock()
	key := ns + "/" + svc
	found := false
	for _, idx := range services {
		if _, ok, _ := idx.GetByKey(key); ok {
			found = true
			break
		}
	}
	if !found {
		return errNoService
	}
	for _, idx := range slices {
		objs, _ := idx.ByIndex(byService, key)
		for _, o := range objs {
			for _, e := range o.(*discoveryv1.EndpointSlice).Endpoints {
				if e.Conditions.Ready == nil || *e.Conditions.Ready { // nil means ready (API docs)
					return errNone
				}
			}
		}
	}
	return errNoEndpoints
}
