package zombiereceiver

import (
	"regexp"
	"strings"

	"github.com/prometheus/procfs"
)

// Where a process runs, as its cgroup path tells: a container ID (64 hex digits), the pod UID,
// both, or neither (the host).
type placement struct {
	containerID string
	podUID      string
}

func (p placement) known() bool { return p.containerID != "" || p.podUID != "" }

var (
	// One path component naming a container, for the runtimes and cgroup drivers Kubernetes uses:
	//   systemd driver: cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope
	//   cgroupfs driver: <id> (containerd, Docker), crio-<id> (CRI-O)
	// crio-conmon-<id>.scope is CRI-O's monitor process, not the container, so it does not match.
	containerComponent = regexp.MustCompile(`^(?:(?:cri-containerd|crio|docker|containerd|libpod)-)?([0-9a-f]{64})(?:\.scope)?$`)
	// A component naming a pod: pod<uid> (cgroupfs) or kubepods[-<qos>]-pod<uid_with_underscores>.slice
	// (systemd).
	podComponent = regexp.MustCompile(`pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$`)
)

// parseCgroupPath finds the innermost container and pod a cgroup path names. Leading "/.."
// components (a path outside the reader's cgroup namespace) and a " (deleted)" suffix (a cgroup
// removed while the zombie waits) change nothing. Components joined by ':' (containerd's
// "<slice>:cri-containerd:<id>" form on some cgroup v1 hierarchies) are read one by one.
func parseCgroupPath(path string) placement {
	path = strings.TrimSuffix(path, " (deleted)")
	var p placement
	for component := range strings.SplitSeq(path, "/") {
		for part := range strings.SplitSeq(component, ":") {
			if m := containerComponent.FindStringSubmatch(part); m != nil {
				p.containerID = m[1]
			} else if m := podComponent.FindStringSubmatch(part); m != nil {
				p.podUID = strings.ReplaceAll(m[1], "_", "-")
			}
		}
	}
	return p
}

// placementOf reads a process's cgroups: the unified (v2) hierarchy first, then the v1
// hierarchies; the first that names a container wins, else the first that names a pod.
func placementOf(cgroups []procfs.Cgroup) placement {
	var pod placement
	for _, unified := range []bool{true, false} {
		for _, cg := range cgroups {
			if (cg.HierarchyID == 0) != unified {
				continue
			}
			p := parseCgroupPath(cg.Path)
			if p.containerID != "" {
				return p
			}
			if pod.podUID == "" {
				pod.podUID = p.podUID
			}
		}
	}
	return pod
}
