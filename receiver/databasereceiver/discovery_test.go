package databasereceiver

import (
	"strconv"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func secret(ns, name string, labels map[string]string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func accountLabels(cluster, component, account string) map[string]string {
	return map[string]string{labelManagedBy: "kubeblocks", labelInstance: cluster, labelComponentName: component, labelSystemAccount: account}
}

func TestTrimSecretKeepsOnlyWhatIsRead(t *testing.T) {
	s := secret("ns", "pg-conn-credential",
		map[string]string{labelAppName: "postgresql", "team": "a"},
		map[string]string{keyUsername: "u", keyPassword: "p", keyHost: "h", "tls.key": "PRIVATE", "url": "postgres://u:p@h"})
	s.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...password...}"}
	got, err := trimSecret(s)
	require.NoError(t, err)
	assert.Equal(t, secret("ns", "pg-conn-credential", map[string]string{labelAppName: "postgresql"},
		map[string]string{keyUsername: "u", keyPassword: "p", keyHost: "h"}), got)

	tombstone := cache.DeletedFinalStateUnknown{Key: "ns/x"}
	got, err = trimSecret(tombstone)
	require.NoError(t, err)
	assert.Equal(t, tombstone, got)
}

func TestTargetFromSecret(t *testing.T) {
	accounts := defaultAccounts()
	tests := []struct {
		name   string
		secret *corev1.Secret
		want   target
		skip   bool
	}{
		{
			name:   "conn-credential postgresql with host and port",
			secret: secret("ns", "pg1-conn-credential", map[string]string{labelAppName: "postgresql"}, map[string]string{keyUsername: "postgres", keyPassword: "p@:/", keyHost: "pg1-postgresql.ns.svc", keyPort: "5432"}),
			want:   target{namespace: "ns", database: "pg1", engine: enginePostgreSQL, host: "pg1-postgresql.ns.svc", port: 5432, username: "postgres", password: "p@:/", service: "pg1-postgresql"},
		},
		{
			name:   "conn-credential mysql with endpoint",
			secret: secret("ns", "my-conn-credential", map[string]string{labelClusterType: "mysql"}, map[string]string{keyUsername: "root", keyPassword: "x", keyEndpoint: "127.0.0.1:3307"}),
			want:   target{namespace: "ns", database: "my", engine: engineMySQL, host: "127.0.0.1", port: 3307, username: "root", password: "x", service: "my-mysql"},
		},
		{
			name:   "conn-credential redis without address: the Service name, default port",
			secret: secret("ns", "rd-conn-credential", map[string]string{labelClusterType: "redis"}, map[string]string{keyPassword: "x"}),
			want:   target{namespace: "ns", database: "rd", engine: engineRedis, host: "rd-redis.ns.svc", port: 6379, password: "x", service: "rd-redis"},
		},
		{
			name:   "KubeBlocks 1.x account secret of the configured account",
			secret: secret("ns", "mongo-mongodb-account-root", accountLabels("mongo", "mongodb", "root"), map[string]string{keyUsername: "root", keyPassword: "x", "tls": "true"}),
			want:   target{namespace: "ns", database: "mongo", engine: engineMongoDB, host: "mongo-mongodb.ns.svc", port: 27017, username: "root", password: "x", service: "mongo-mongodb", tls: true},
		},
		{name: "another account of the component", secret: secret("ns", "pg-postgresql-account-kbadmin", accountLabels("pg", "postgresql", "kbadmin"), nil), skip: true},
		{name: "a component nobody configured", secret: secret("ns", "x-etcd-account-root", accountLabels("x", "etcd", "root"), nil), skip: true},
		{name: "bare suffix", secret: secret("ns", "-conn-credential", map[string]string{labelClusterType: "redis"}, nil), skip: true},
		{name: "foreign engine", secret: secret("ns", "k-conn-credential", map[string]string{labelClusterType: "kafka"}, nil), skip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trimmed, err := trimSecret(tt.secret)
			require.NoError(t, err)
			got, ok, err := targetFromSecret(trimmed.(*corev1.Secret), accounts)
			require.NoError(t, err)
			require.Equal(t, !tt.skip, ok)
			if ok {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestTargetFromSecretBadPortIsAnErrorWithoutSecretData(t *testing.T) {
	s := secret("ns", "my-conn-credential", map[string]string{labelClusterType: "mysql"}, map[string]string{keyPassword: "hunter2", keyHost: "h", keyPort: "hunter2x"})
	_, ok, err := targetFromSecret(s, defaultAccounts())
	require.True(t, ok)
	require.ErrorContains(t, err, "secret ns/my-conn-credential: port is not a number")
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestPreflightService(t *testing.T) {
	for host, want := range map[string][2]string{
		"pg-postgresql":                         {"pg-postgresql", "ns"},
		"pg-postgresql.other":                   {"pg-postgresql", "other"},
		"pg-postgresql.other.svc":               {"pg-postgresql", "other"},
		"pg-postgresql.other.svc.cluster.local": {"pg-postgresql", "other"},
		"127.0.0.1":                             {"", ""},
		"localhost":                             {"", ""},
		"db.example.com":                        {"", ""},
	} {
		svc, ns := target{namespace: "ns", host: host}.preflightService()
		assert.Equal(t, want, [2]string{svc, ns}, host)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
