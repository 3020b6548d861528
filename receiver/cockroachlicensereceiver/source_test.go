package cockroachlicensereceiver

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/labring/otelcol-sealos/internal/secretref"
	"github.com/labring/otelcol-sealos/receiver/cockroachlicensereceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/cockroachtest"
)

// testNow is the clock of every read, so seconds_until_expiry is stable in the golden file.
var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

const (
	testUser     = "monitor"
	testPassword = "p@ss:w/rd?#%&='\\ ;" // every character a hand-built DSN breaks on
)

// cluster starts a stand-in cluster serving license (set != nil) or failing the query.
func cluster(t *testing.T, name string, set func(*cockroachtest.Server)) Cluster {
	s := cockroachtest.StartT(t, testUser, testPassword)
	set(s)
	return Cluster{Name: name, DSN: configopaque.String(s.DSN())}
}

func serving(l cockroachtest.License) func(*cockroachtest.Server) {
	return func(s *cockroachtest.Server) { s.SetLicense(l.Encode()) }
}

func newTestSource(t *testing.T, clusters []Cluster) *licenseSource {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Clusters = clusters
	cfg.CheckTimeout = 2 * time.Second
	require.NoError(t, cfg.Validate())
	s := newLicenseSource(cfg, receivertest.NewNopSettings(metadata.Type))
	s.now = func() time.Time { return testNow }
	return s
}

func TestCollectGolden(t *testing.T) {
	day := 24 * time.Hour
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	require.NoError(t, closed.Close())
	secretLicense := cockroachtest.License{ValidUntil: testNow.Add(90 * day), Type: cockroachtest.TypeFree, OrganizationName: "From a Secret"}

	clusters := []Cluster{
		cluster(t, "prod", serving(cockroachtest.License{ValidUntil: testNow.Add(365 * day), Type: cockroachtest.TypeEnterprise, OrganizationName: "Sealos Cloud",
			Environment: cockroachtest.EnvProduction, LicenseID: licenseID, OrganizationID: orgID})),
		cluster(t, "staging", serving(cockroachtest.License{ValidUntil: testNow.Add(3 * day), Type: cockroachtest.TypeTrial, OrganizationName: "Sealos Cloud", Environment: cockroachtest.EnvPreProduction})),
		cluster(t, "legacy", serving(cockroachtest.License{ValidUntil: testNow.Add(-10 * day), Type: cockroachtest.TypeEvaluation, OrganizationName: "Sealos Cloud", Environment: 7})),
		cluster(t, "community", serving(cockroachtest.License{ValidUntil: testNow.Add(30 * day), OrganizationName: "Sealos Labs"})),
		cluster(t, "unlicensed", func(s *cockroachtest.Server) { s.SetLicense("") }),
		cluster(t, "garbage", func(s *cockroachtest.Server) { s.SetLicense("crl-0-SECRETLICENSEPAYLOAD") }),
		cluster(t, "denied", func(s *cockroachtest.Server) {
			s.SetError("42501", "user monitor does not have VIEWCLUSTERSETTING or MODIFYCLUSTERSETTING privilege")
		}),
		{Name: "down", DSN: configopaque.String("postgresql://monitor:s3cret-down@" + closedAddr + "/defaultdb?sslmode=disable")},
		{Name: "from-secret", DSNSecret: &secretref.Ref{Namespace: "db", Name: "crdb", Key: "dsn"}},
	}
	wrongPassword := cockroachtest.StartT(t, testUser, "the-real-one")
	clusters = append(clusters, Cluster{Name: "wrong-password", DSN: configopaque.String(strings.Replace(wrongPassword.DSN(), "the-real-one", "s3cret-wrong", 1))})
	fromSecret := cockroachtest.StartT(t, testUser, testPassword)
	fromSecret.SetLicense(secretLicense.Encode())

	s := newTestSource(t, clusters)
	s.client = fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "crdb"}, Data: map[string][]byte{"dsn": []byte(fromSecret.DSN())}})
	md, err := s.Collect(context.Background())

	require.Error(t, err, "clusters that could not be read fail the cycle")
	for _, want := range []string{`cluster "garbage": enterprise.license: license field`, `cluster "denied": SHOW CLUSTER SETTING enterprise.license on 127.0.0.1:`,
		"VIEWCLUSTERSETTING", `cluster "down": connecting to 127.0.0.1:`, "connection refused", `cluster "wrong-password": connecting to`, "28P01"} {
		assert.ErrorContains(t, err, want)
	}
	for _, secret := range []string{"SECRETLICENSEPAYLOAD", "s3cret", testPassword, "p%40ss"} {
		assert.NotContains(t, err.Error(), secret, "a secret reached the error")
	}
	compareGolden(t, md, "clusters.yaml")
}

func compareGolden(t *testing.T, md pmetric.Metrics, file string) {
	t.Helper()
	path := filepath.Join("testdata", "expected_metrics", file)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreMetricsOrder()))
}

// A rotated Secret is read at the next cycle: no restart.
func TestSecretIsReadEveryCycle(t *testing.T) {
	a, b := cockroachtest.StartT(t, testUser, "first"), cockroachtest.StartT(t, testUser, "second")
	a.SetLicense("")
	b.SetLicense(cockroachtest.License{ValidUntil: testNow.Add(time.Hour)}.Encode())
	s := newTestSource(t, []Cluster{{Name: "c", DSNSecret: &secretref.Ref{Namespace: "db", Name: "crdb", Key: "dsn"}}})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "crdb"}, Data: map[string][]byte{"dsn": []byte(a.DSN())}}
	client := fake.NewClientset(secret)
	s.client = client
	ctx := context.Background()
	_, err := s.Collect(ctx)
	require.NoError(t, err)
	secret.Data["dsn"] = []byte(b.DSN())
	_, err = client.CoreV1().Secrets("db").Update(ctx, secret, metav1.UpdateOptions{})
	require.NoError(t, err)
	md, err := s.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), a.Queries())
	assert.Equal(t, int64(1), b.Queries())
	assert.Equal(t, 1, countMetric(md, "cockroach_license.expiry_timestamp"))
}

func countMetric(md pmetric.Metrics, name string) int {
	n := 0
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				if ms.At(k).Name() == name {
					n += ms.At(k).Gauge().DataPoints().Len()
				}
			}
		}
	}
	return n
}

// Start reaches for no API server when no cluster uses dsn_secret.
func TestStartWithoutSecretsNeedsNoAPIServer(t *testing.T) {
	s := newTestSource(t, []Cluster{{Name: "c", DSN: "postgresql://root@127.0.0.1:1/defaultdb"}})
	s.cfg.KubeConfigPath = "/nonexistent"
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	assert.Nil(t, s.client)
}
