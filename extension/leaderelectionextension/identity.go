package leaderelectionextension

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.opentelemetry.io/collector/component"
)

// processIdentity is this process's lease holder identity, the same for every instance and every
// in-process reload, so a reloaded extension finds the lease still its own.
//
//   - $POD_NAME (downward API) when set: unique among live pods, one collector per pod; a container
//     restarted in the same pod even resumes its own lease at once.
//   - otherwise "<hostname>_<pid>": the hostname alone cannot tell apart two processes on one machine
//     (systemd units, host networking, tests), the pid can, and it is stable for the process's life.
func processIdentity(getenv func(string) string, hostname func() (string, error), pid int) string {
	if pod := getenv("POD_NAME"); pod != "" {
		return pod
	}
	host, err := hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s_%d", host, pid)
}

func defaultIdentity() string { return processIdentity(os.Getenv, os.Hostname, os.Getpid()) }

var notInName = regexp.MustCompile(`[^a-z0-9.-]+`)

// defaultLeaseName derives the lease name from the extension's id: leader_election → otelcol-sealos,
// leader_election/cluster → otelcol-sealos-cluster.
func defaultLeaseName(id component.ID) string {
	name := strings.Trim(notInName.ReplaceAllString(strings.ToLower(id.Name()), "-"), "-.")
	if name == "" {
		return "otelcol-sealos"
	}
	return "otelcol-sealos-" + name
}
