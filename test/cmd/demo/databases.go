package main

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labring/otelcol-sealos/test/dbtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

// createSampleDatabases creates KubeBlocks connection Secrets for the database receiver, pointing at
// the local servers with their admin logins (test/services/start.sh starts them): PostgreSQL
// (trust), MariaDB (root, no password) and Redis are reachable; one MariaDB login has a wrong
// password and one Redis points at a port nobody listens on.
func createSampleDatabases(ctx context.Context, cluster *k8stest.Cluster) error {
	const ns = "demo-databases"
	step("creating namespace %s with KubeBlocks database Secrets (local PostgreSQL, MariaDB, Redis)", ns)
	if _, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	samples := []struct {
		cluster, labelKey, engine, user, password, addr string
	}{
		{"demo-pg", "app.kubernetes.io/name", "postgresql", "postgres", "any", dbtest.PostgresAddr},
		{"demo-mysql", "apps.kubeblocks.io/cluster-type", "mysql", "root", "", dbtest.MySQLAddr},
		{"demo-mysql-wrong-password", "apps.kubeblocks.io/cluster-type", "mysql", "root", "wrong", dbtest.MySQLAddr},
		{"demo-redis", "apps.kubeblocks.io/cluster-type", "redis", "", "", dbtest.RedisAddr},
		{"demo-redis-down", "apps.kubeblocks.io/cluster-type", "redis", "", "", "127.0.0.1:1"},
	}
	for _, s := range samples {
		host, port, _ := strings.Cut(s.addr, ":")
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: s.cluster + "-conn-credential", Namespace: ns, Labels: map[string]string{s.labelKey: s.engine}},
			StringData: map[string]string{"username": s.user, "password": s.password, "host": host, "port": port},
		}
		if _, err := cluster.Client.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating secret %s: %w", secret.Name, err)
		}
	}
	return nil
}
