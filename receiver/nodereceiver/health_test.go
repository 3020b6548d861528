package nodereceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
)

func cond(t corev1.NodeConditionType, s corev1.ConditionStatus) corev1.NodeCondition {
	return corev1.NodeCondition{Type: t, Status: s}
}

func TestHealthy(t *testing.T) {
	tests := []struct {
		name  string
		conds []corev1.NodeCondition
		want  bool
	}{
		{"ready", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeMemoryPressure, corev1.ConditionFalse)}, true},
		{"not ready", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionFalse)}, false},
		{"ready unknown", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)}, false},
		{"no ready condition", []corev1.NodeCondition{cond(corev1.NodeDiskPressure, corev1.ConditionFalse)}, false},
		{"no conditions", nil, false},
		{"memory pressure", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeMemoryPressure, corev1.ConditionTrue)}, false},
		{"pressure listed first", []corev1.NodeCondition{cond(corev1.NodePIDPressure, corev1.ConditionTrue), cond(corev1.NodeReady, corev1.ConditionTrue)}, false},
		{"network unavailable", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeNetworkUnavailable, corev1.ConditionTrue)}, false},
		{"pressure unknown is not unhealthy", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeDiskPressure, corev1.ConditionUnknown)}, true},
		{"npd condition alone is not unhealthy", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue), cond("KernelDeadlock", corev1.ConditionTrue)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, healthy(tt.conds))
		})
	}
}

func TestAbnormal(t *testing.T) {
	assert.True(t, abnormal(cond(corev1.NodeReady, corev1.ConditionFalse)))
	assert.True(t, abnormal(cond(corev1.NodeReady, corev1.ConditionUnknown)))
	assert.False(t, abnormal(cond(corev1.NodeReady, corev1.ConditionTrue)))
	assert.True(t, abnormal(cond(corev1.NodeMemoryPressure, corev1.ConditionTrue)))
	assert.False(t, abnormal(cond(corev1.NodeMemoryPressure, corev1.ConditionUnknown)))
	assert.True(t, abnormal(cond("KernelDeadlock", corev1.ConditionTrue)))
	assert.True(t, abnormal(cond("KernelDeadlock", corev1.ConditionUnknown)))
	assert.False(t, abnormal(cond("KernelDeadlock", corev1.ConditionFalse)))
}
