package nodereceiver

import (
	corev1 "k8s.io/api/core/v1"
)

// pressureConditions make a node unhealthy when True.
var pressureConditions = map[corev1.NodeConditionType]bool{
	corev1.NodeMemoryPressure:     true,
	corev1.NodeDiskPressure:       true,
	corev1.NodePIDPressure:        true,
	corev1.NodeNetworkUnavailable: true,
}

// healthy is true when Ready is True and no pressure or network condition is True.
// A node without a Ready condition is unhealthy.
func healthy(conds []corev1.NodeCondition) bool {
	ready := false
	for _, c := range conds {
		switch {
		case c.Type == corev1.NodeReady:
			ready = c.Status == corev1.ConditionTrue
		case pressureConditions[c.Type] && c.Status == corev1.ConditionTrue:
			return false
		}
	}
	return ready
}

// abnormal reports whether a condition is worth reporting on an unhealthy node: Ready not True,
// a pressure condition True, or any other (e.g. node-problem-detector) condition not False.
func abnormal(c corev1.NodeCondition) bool {
	switch {
	case c.Type == corev1.NodeReady:
		return c.Status != corev1.ConditionTrue
	case pressureConditions[c.Type]:
		return c.Status == corev1.ConditionTrue
	default:
		return c.Status != corev1.ConditionFalse
	}
}

func isReady(conds []corev1.NodeCondition) bool {
	for _, c := range conds {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
