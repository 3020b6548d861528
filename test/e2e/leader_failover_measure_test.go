package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

// TestMeasureFailover records the figures of docs/benchmarks.md ("Leader election"): with the
// default durations 15s/10s/2s and a 1s collection interval, for our leader_election and for
// contrib's k8s_leader_elector, the median over N runs of
//
//	(a) SIGTERM on the leader → the other replica's first collection after the signal;
//	(b) SIGKILL on the leader → the same;
//	(c) SIGHUP on the leader → the longest gap between consecutive collections (either replica).
//
// Slow (contrib waits out 15s leases), so not part of `make test`:
//
//	OTELCOL_SEALOS_MEASURE_FAILOVER=5 go test -count=1 -timeout 60m -run TestMeasureFailover -v ./e2e/
func TestMeasureFailover(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("OTELCOL_SEALOS_MEASURE_FAILOVER"))
	if runs <= 0 {
		t.Skip("set OTELCOL_SEALOS_MEASURE_FAILOVER=<runs> to measure failover (minutes)")
	}
	c := k8stest.StartT(t)
	createSampleNodes(t, c)
	defaults := [3]time.Duration{15 * time.Second, 10 * time.Second, 2 * time.Second}
	var table []string
	for i, elector := range []string{"leader_election/cluster", "k8s_leader_elector"} {
		var graceful, crash, reload []time.Duration
		for run := range runs {
			setup := electionSetup{elector: elector, lease: fmt.Sprintf("measure-%d-%d", i, run), durations: defaults, interval: time.Second}
			g, k, r := measureRun(t, c, setup)
			t.Logf("%s run %d: SIGTERM %s, SIGKILL %s, SIGHUP blackout %s", elector, run, g, k, r)
			graceful, crash, reload = append(graceful, g), append(crash, k), append(reload, r)
		}
		table = append(table, fmt.Sprintf("| %s | %s | %s | %s |", elector, summary(graceful), summary(crash), summary(reload)))
	}
	t.Logf("\n| elector | (a) SIGTERM → first export | (b) SIGKILL → first export | (c) SIGHUP blackout |\n|---|---|---|---|\n%s",
		joinLines(table))
}

// measureRun starts two replicas and measures a reload, a graceful stop and a crash of the leader.
func measureRun(t *testing.T, c *k8stest.Cluster, setup electionSetup) (graceful, crash, reload time.Duration) {
	t.Helper()
	const poll = 20 * time.Millisecond
	a := startElectionReplica(t, c, setup, "measure-a")
	require.Eventually(t, a.exports, 2*time.Minute, poll)
	b := startElectionReplica(t, c, setup, "measure-b")
	require.Eventually(t, func() bool { _, ok := b.statusOf(); return ok }, time.Minute, poll)
	time.Sleep(3 * time.Second) // b is campaigning as a follower

	// (c) reload on the leader: the longest gap between collections, whoever makes them.
	seen := map[time.Time]bool{}
	record := func() {
		for _, r := range []*electionReplica{a, b} {
			if at := r.lastCollection(); !at.IsZero() {
				seen[at] = true
			}
		}
	}
	for range 50 { // ~2 collections before the signal
		record()
		time.Sleep(poll)
	}
	hup := time.Now()
	require.NoError(t, a.Signal(syscall.SIGHUP))
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		record()
		if after := collectionsAfter(seen, hup); after >= 3 {
			break
		}
		time.Sleep(poll)
	}
	reload = longestGap(seen)

	// Whoever leads now is stopped; the other one must take over.
	leader, follower := a, b
	if !a.exports() {
		leader, follower = b, a
	}
	graceful = timeToFirstCollection(t, follower, func() { leader.Stop() })

	// The stopped one comes back as follower, then the leader crashes.
	leader.restart(t, c)
	require.Eventually(t, func() bool { _, ok := leader.statusOf(); return ok }, time.Minute, poll)
	time.Sleep(3 * time.Second)
	crash = timeToFirstCollection(t, leader, follower.Kill)
	leader.Stop()
	return graceful, crash, reload
}

// timeToFirstCollection runs act and returns how long until r exports a collection made after it.
func timeToFirstCollection(t *testing.T, r *electionReplica, act func()) time.Duration {
	t.Helper()
	start := time.Now()
	act()
	var took time.Duration
	require.Eventually(t, func() bool {
		if at := r.lastCollection(); at.After(start) {
			took = time.Since(start)
			return true
		}
		return false
	}, 2*time.Minute, 20*time.Millisecond, "no takeover:\n%s", r.Output())
	return took
}

func collectionsAfter(seen map[time.Time]bool, t time.Time) int {
	n := 0
	for at := range seen {
		if at.After(t) {
			n++
		}
	}
	return n
}

func longestGap(seen map[time.Time]bool) time.Duration {
	times := make([]time.Time, 0, len(seen))
	for at := range seen {
		times = append(times, at)
	}
	slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
	var gap time.Duration
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i].Sub(times[i-1]))
	}
	return gap
}

// summary is "median (min–max)" in seconds.
func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("%.1f s (%.1f–%.1f)", s[len(s)/2].Seconds(), s[0].Seconds(), s[len(s)-1].Seconds())
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
