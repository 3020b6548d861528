package k8stest

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Condition is shorthand for a node condition type and status.
type Condition struct {
	Type   corev1.NodeConditionType
	Status corev1.ConditionStatus
}

// Healthy is the condition set of a node that is Ready with no pressure.
var Healthy = []Condition{
	{corev1.NodeReady, corev1.ConditionTrue},
	{corev1.NodeMemoryPressure, corev1.ConditionFalse},
	{corev1.NodeDiskPressure, corev1.ConditionFalse},
	{corev1.NodePIDPressure, corev1.ConditionFalse},
}

// CreateNode creates a node and sets its status conditions (status is a subresource).
func CreateNode(ctx context.Context, client kubernetes.Interface, name string, conds []Condition) (*corev1.Node, error) {
	n, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return SetConditions(ctx, client, n, conds)
}

// SetConditions replaces a node's conditions.
func SetConditions(ctx context.Context, client kubernetes.Interface, n *corev1.Node, conds []Condition) (*corev1.Node, error) {
	now := metav1.Now()
	n = n.DeepCopy()
	n.Status.Conditions = nil
	for _, c := range conds {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{
			Type: c.Type, Status: c.Status, LastHeartbeatTime: now, LastTransitionTime: now, Reason: "Test",
		})
	}
	return client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
}
