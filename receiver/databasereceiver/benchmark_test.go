package databasereceiver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/labring/otelcol-sealos/internal/statereceiver/statereceivertest"
	"github.com/labring/otelcol-sealos/receiver/databasereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/series"
)

const benchCycles = 3

// Databases per engine in the 1,000-database benchmark.
var benchDatabases = map[string]int{enginePostgreSQL: 300, engineMySQL: 300, engineRedis: 200, engineMongoDB: 200}

// BenchmarkCycle1000Databases runs full cycles over 1,000 databases discovered from Secrets in a
// real API server, each pointing at a real local server under its own user (MySQL: own user and database;
// PostgreSQL: own role on database postgres; Redis: own ACL user; MongoDB: one FerretDB login), with the default concurrency limits and check timeout. It
// reports the peak of connections the process holds open per engine during a cycle (its sockets in
// /proc/net/tcp, sampled every 5ms, minus the baseline) and the connections left open after it.
func BenchmarkCycle1000Databases(b *testing.B) {
	c := k8stest.StartT(b)
	ctx := context.Background()
	rc := rest.CopyConfig(c.Config)
	rc.QPS, rc.Burst = 1000, 2000
	client, err := kubernetes.NewForConfig(rc)
	require.NoError(b, err)
	_, err = client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}, metav1.CreateOptions{})
	require.NoError(b, err)

	fe := dbtest.StartFerretDB(b, "root", dbtest.SpecialPassword)
	pg, my, rd := dbtest.ConnectPostgres(b), dbtest.ConnectMySQL(b), dbtest.ConnectRedis(b)
	addrs := map[string]string{enginePostgreSQL: dbtest.PostgresAddr, engineMySQL: dbtest.MySQLAddr, engineRedis: dbtest.RedisAddr, engineMongoDB: fe.Addr}
	labels := map[string]map[string]string{
		enginePostgreSQL: {labelAppName: "postgresql"}, engineMySQL: {labelClusterType: "mysql"},
		engineRedis: {labelClusterType: "redis"}, engineMongoDB: {labelClusterType: "mongodb"},
	}
	began := time.Now()
	var secrets []*corev1.Secret
	for engine, n := range benchDatabases {
		for i := range n {
			var a dbtest.Account
			switch engine {
			case enginePostgreSQL:
				a = pg.CreateRole(b, "bench", dbtest.SpecialPassword)
			case engineMySQL:
				a = my.CreateAccount(b, "bench", dbtest.SpecialPassword)
			case engineRedis:
				a = rd.CreateAccount(b, "bench", dbtest.SpecialPassword)
			default:
				a = dbtest.Account{User: fe.User, Password: fe.Password}
			}
			secrets = append(secrets, secret("bench", fmt.Sprintf("%s-%d-conn-credential", engine, i), labels[engine], addressData(a, addrs[engine])))
		}
	}
	b.Logf("created 1,000 accounts in %s", time.Since(began).Round(time.Second))
	createAll(b, client, secrets)

	cfg := clusterConfig(c)
	cfg.CheckTimeout = createDefaultConfig().(*Config).CheckTimeout
	s := newDatabaseSource(cfg, receiver.Settings{ID: component.NewID(metadata.Type), TelemetrySettings: componenttest.NewNopTelemetrySettings()})
	require.NoError(b, s.Start(ctx, componenttest.NewNopHost()))
	leadCtx, cancel := context.WithCancel(ctx)
	led := make(chan struct{})
	go func() { defer close(led); s.Lead(leadCtx, statereceivertest.NewTerm()) }()
	b.Cleanup(func() { cancel(); <-led })

	ports := map[string]int{}
	for engine, addr := range addrs {
		_, port, err := splitEndpoint(addr)
		require.NoError(b, err)
		ports[engine] = port
	}
	baseline := established(b, ports)
	peak := map[string]int{}
	var peakHeap uint64
	// The setup takes minutes: run it once (-benchtime 1x) and time benchCycles cycles inside.
	b.ResetTimer()
	var took []time.Duration
	for range benchCycles * b.N {
		stop := sample(b, ports, baseline, peak, &peakHeap)
		began := time.Now()
		md, err := s.Collect(ctx)
		took = append(took, time.Since(began))
		stop()
		require.NoError(b, err)
		got := series.Of(md)
		require.Equal(b, 1000.0, got[`database.total{type="all"}`])
		require.Equal(b, 1000.0, got[`database.available{type="all"}`], "unavailable: %v", series.WithPrefix(got, "database.unavailable"))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(took[0].Seconds(), "min_s/cycle")
	b.ReportMetric(took[len(took)/2].Seconds(), "median_s/cycle")
	b.ReportMetric(took[len(took)-1].Seconds(), "max_s/cycle")
	for _, e := range engines {
		b.ReportMetric(float64(peak[e]), "peak_conns_"+e)
	}
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak_heap_MiB")
	// After the cycle every check's connection is closed: back to the baseline.
	require.Eventually(b, func() bool {
		now := established(b, ports)
		for e := range ports {
			if now[e] > baseline[e] {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond, "connections left open after the cycle")
	b.ReportMetric(0, "conns_left_open")
}

func createAll(b *testing.B, client kubernetes.Interface, secrets []*corev1.Secret) {
	b.Helper()
	var wg sync.WaitGroup
	work := make(chan *corev1.Secret)
	errs := make(chan error, len(secrets))
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				if _, err := client.CoreV1().Secrets(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, s := range secrets {
		work <- s
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
}

// sample records, until stop is called, the peak of established connections per engine above
// baseline and the peak heap in use.
func sample(b *testing.B, ports, baseline, peak map[string]int, peakHeap *uint64) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		for {
			for e, n := range established(b, ports) {
				peak[e] = max(peak[e], n-baseline[e])
			}
			runtime.ReadMemStats(&ms)
			*peakHeap = max(*peakHeap, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// established counts this process's ESTABLISHED TCP connections to each server's port, per engine:
// the connections the receiver holds open (client side, so a connection counts until the
// receiver closes it, however long the server takes to notice).
func established(b *testing.B, ports map[string]int) map[string]int {
	byPort := map[int]string{}
	for e, p := range ports {
		byPort[p] = e
	}
	mine := socketInodes()
	out := map[string]int{}
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "01" || !mine[fields[9]] { // 01 = ESTABLISHED
				continue
			}
			_, hexPort, ok := strings.Cut(fields[2], ":")
			if !ok {
				continue
			}
			port, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				continue
			}
			if e, ok := byPort[int(port)]; ok {
				out[e]++
			}
		}
		_ = f.Close()
	}
	return out
}

// socketInodes are the inodes of this process's open sockets.
func socketInodes() map[string]bool {
	out := map[string]bool{}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		link, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && strings.HasPrefix(link, "socket:[") {
			out[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	return out
}
