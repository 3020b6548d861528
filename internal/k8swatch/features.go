package k8swatch

import clientfeatures "k8s.io/client-go/features"

// client-go 1.35 lists through a watch stream ("watch-list") by default. In that mode a reflector
// retries an unreachable API server forever without calling the informer's watch error handler,
// so the outage is never reported, and its backoff ignores the stop channel, so stopping an
// informer (lease lost, shutdown) can wait up to 30 s. Plain list-then-watch has neither problem.
func init() {
	clientfeatures.ReplaceFeatureGates(withoutWatchList{clientfeatures.FeatureGates()})
}

type withoutWatchList struct{ clientfeatures.Gates }

func (g withoutWatchList) Enabled(f clientfeatures.Feature) bool {
	return f != clientfeatures.WatchListClient && g.Gates.Enabled(f)
}
