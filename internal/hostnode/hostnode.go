// Package hostnode is what node-local receivers (run as a DaemonSet, one per node) share: the
// name of the node they report on.
package hostnode

import (
	"errors"
	"os"
)

// EnvVars are read in order for the default node name: the downward API's spec.nodeName under
// either name.
var EnvVars = []string{"K8S_NODE_NAME", "NODE_NAME"}

// NameFromEnv returns the first non-empty variable of EnvVars, or "".
func NameFromEnv() string {
	for _, v := range EnvVars {
		if name := os.Getenv(v); name != "" {
			return name
		}
	}
	return ""
}

// CheckName reports a missing node name: every series carries it, so silence is not an option.
func CheckName(name string) error {
	if name != "" {
		return nil
	}
	return errors.New("node_name: empty and neither K8S_NODE_NAME nor NODE_NAME is set; set node_name, " +
		"or pass spec.nodeName through the downward API (env K8S_NODE_NAME, fieldRef spec.nodeName)")
}
