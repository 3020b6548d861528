package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	"github.com/labring/otelcol-sealos/test/series"
)

// databaseSecret is a KubeBlocks ≤ 0.9 connection Secret pointing at a local server.
func databaseSecret(t *testing.T, c *k8stest.Cluster, ns, cluster string, labels map[string]string, a dbtest.Account, addr string) {
	t.Helper()
	host, port, ok := strings.Cut(addr, ":")
	require.True(t, ok)
	_, err := c.Client.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: cluster + "-conn-credential", Namespace: ns, Labels: labels},
		StringData: map[string]string{"username": a.User, "password": a.Password, "host": host, "port": port},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// TestDatabaseReceiverThroughPrometheus checks four engines found through Secrets, one with a
// wrong password, and reads the predecessor's series names from the real binary.
func TestDatabaseReceiverThroughPrometheus(t *testing.T) {
	c := k8stest.StartT(t)
	ctx := context.Background()
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-db"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	pg := dbtest.ConnectPostgres(t).CreateAccount(t, "e2e", dbtest.SpecialPassword)
	my := dbtest.ConnectMySQL(t).CreateAccount(t, "e2e", dbtest.SpecialPassword)
	rd := dbtest.ConnectRedis(t).CreateAccount(t, "e2e", dbtest.SpecialPassword)
	fe := dbtest.StartFerretDB(t, "root", dbtest.SpecialPassword)
	wrong := my
	wrong.Password = "not-the-password"

	databaseSecret(t, c, "ns-db", "pg", map[string]string{"app.kubernetes.io/name": "postgresql"}, pg, dbtest.PostgresAddr)
	databaseSecret(t, c, "ns-db", "my", map[string]string{"apps.kubeblocks.io/cluster-type": "mysql"}, my, dbtest.MySQLAddr)
	databaseSecret(t, c, "ns-db", "my-wrong", map[string]string{"apps.kubeblocks.io/cluster-type": "mysql"}, wrong, dbtest.MySQLAddr)
	databaseSecret(t, c, "ns-db", "rd", map[string]string{"apps.kubeblocks.io/cluster-type": "redis"}, dbtest.Account{User: rd.User, Password: rd.Password}, dbtest.RedisAddr)
	databaseSecret(t, c, "ns-db", "mongo", map[string]string{"apps.kubeblocks.io/cluster-type": "mongodb"}, dbtest.Account{User: fe.User, Password: fe.Password}, fe.Addr)

	port := otelcoltest.FreePort(t)
	cfg := writeConfig(t, exportedThroughPrometheus(fmt.Sprintf(`receivers:
  database:
    auth_type: kubeConfig
    kubeconfig_path: %s
    collection_interval: 500ms
    check_timeout: 5s
`, c.Kubeconfig), port, 0, "database"))
	col := otelcoltest.Start(t, cfg)

	conn := func(db, typ, errorType string) string {
		return series.Format("sealos_database_connectivity", map[string]string{"namespace": "ns-db", "database": db, "type": typ, "error_type": errorType})
	}
	want := map[string]float64{
		conn("pg", "postgresql", ""):             1,
		conn("my", "mysql", ""):                  1,
		conn("my-wrong", "mysql", "auth_failed"): 0,
		conn("rd", "redis", ""):                  1,
		conn("mongo", "mongodb", ""):             1,
	}
	for _, typ := range []string{"all", "mysql", "postgresql", "redis", "mongodb"} {
		total, up := map[string]float64{"all": 5, "mysql": 2}[typ], map[string]float64{"all": 4}[typ]
		if total == 0 {
			total, up = 1, 1
		}
		if typ == "mysql" {
			up = 1
		}
		want[`sealos_database_total{type="`+typ+`"}`] = total
		want[`sealos_database_available{type="`+typ+`"}`] = up
		want[`sealos_database_unavailable{type="`+typ+`"}`] = total - up
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	var got map[string]float64
	ok := assert.Eventually(t, func() bool {
		all, err := otelcoltest.Scrape(url)
		if err != nil {
			return false
		}
		got = all
		withoutTimes := map[string]float64{}
		for k, v := range series.WithPrefix(all, "sealos_database_") {
			if !strings.HasPrefix(k, "sealos_database_response_time_seconds") {
				withoutTimes[k] = v
			}
		}
		return assert.ObjectsAreEqual(want, withoutTimes)
	}, waitFor, 200*time.Millisecond)
	require.True(t, ok, "database series: %v\ncollector exited: %v\n%s", series.WithPrefix(got, "sealos_database_"), col.Exited(), col.Output())

	for _, db := range []string{"pg|postgresql", "my|mysql", "my-wrong|mysql", "rd|redis", "mongo|mongodb"} {
		name, typ, _ := strings.Cut(db, "|")
		key := series.Format("sealos_database_response_time_seconds", map[string]string{"namespace": "ns-db", "database": name, "type": typ})
		require.Contains(t, got, key)
		assert.Greater(t, got[key], 0.0, key)
		assert.Less(t, got[key], 5.0, key)
	}
	assert.Equal(t, 1.0, got[`sealos_state_metric_collector_success{collector="database"}`])
	// No Secret content in the exposition, nor in the log.
	assert.NotContains(t, col.Output(), dbtest.SpecialPassword)
}
