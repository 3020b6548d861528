package loadtest

import (
	"slices"
	"time"
)

// Percentile is the q-quantile (0 < q ≤ 1) of d: the sample of rank round(q·len(d)) in order
// (the first for small q); 0 for no samples.
func Percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}
