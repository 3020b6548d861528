package databasereceiver

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and keys of the two KubeBlocks Secret formats.
const (
	// KubeBlocks ≤ 0.9 `<cluster>-conn-credential` Secrets, selected as the predecessor did.
	connCredentialSuffix = "-conn-credential"
	labelClusterType     = "apps.kubeblocks.io/cluster-type" // mysql, mongodb, redis
	labelAppName         = "app.kubernetes.io/name"          // postgresql

	// KubeBlocks 1.x `<cluster>-<component>-account-<name>` Secrets (component account transformer).
	labelInstance      = "app.kubernetes.io/instance"        // the cluster
	labelComponentName = "apps.kubeblocks.io/component-name" // the component
	labelSystemAccount = "apps.kubeblocks.io/system-account" // the account
	labelManagedBy     = "app.kubernetes.io/managed-by"      // kubeblocks

	keyUsername = "username"
	keyPassword = "password"
	keyEndpoint = "endpoint" // host:port
	keyHost     = "host"
	keyPort     = "port"
	keyTLS      = "tls" // "true" asks for TLS (not written by KubeBlocks; set it yourself)
)

// Label selectors of the Secret informers: one per format (a selector cannot OR).
var secretSelectors = []string{
	labelClusterType + " in (mysql,mongodb,redis)",
	labelAppName + "=postgresql",
	labelSystemAccount + "," + labelManagedBy + "=kubeblocks",
}

var keptLabels = []string{labelClusterType, labelAppName, labelInstance, labelComponentName, labelSystemAccount}

var keptKeys = []string{keyUsername, keyPassword, keyEndpoint, keyHost, keyPort, keyTLS}

// trimSecret keeps only the labels and data keys the receiver reads: other credentials and
// certificates in the Secret never enter the cache.
func trimSecret(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil // a deletion tombstone
	}
	out := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Name: s.Name, Namespace: s.Namespace, UID: s.UID, ResourceVersion: s.ResourceVersion,
		Labels: map[string]string{},
	}, Data: map[string][]byte{}}
	for _, l := range keptLabels {
		if v, ok := s.Labels[l]; ok {
			out.Labels[l] = v
		}
	}
	for _, k := range keptKeys {
		if v, ok := s.Data[k]; ok {
			out.Data[k] = v
		}
	}
	return out, nil
}

var defaultPorts = map[string]int{engineMySQL: 3306, enginePostgreSQL: 5432, engineMongoDB: 27017, engineRedis: 6379}

// targetFromSecret turns a trimmed Secret into a target; ok is false for Secrets that are not a
// database's (another account of the component, a foreign engine, a name not in the format).
func targetFromSecret(s *corev1.Secret, accounts map[string]AccountConfig) (t target, ok bool, err error) {
	t = target{namespace: s.Namespace, username: string(s.Data[keyUsername]), password: string(s.Data[keyPassword])}
	switch {
	case s.Labels[labelSystemAccount] != "":
		comp := s.Labels[labelComponentName]
		a, known := accounts[comp]
		cluster := s.Labels[labelInstance]
		if !known || a.Account != s.Labels[labelSystemAccount] || cluster == "" {
			return t, false, nil
		}
		t.engine, t.database, t.service = a.Engine, cluster, cluster+"-"+comp
	case strings.HasSuffix(s.Name, connCredentialSuffix) && len(s.Name) > len(connCredentialSuffix):
		t.database = strings.TrimSuffix(s.Name, connCredentialSuffix)
		switch {
		case s.Labels[labelAppName] == enginePostgreSQL:
			t.engine = enginePostgreSQL
		case s.Labels[labelClusterType] == engineMySQL || s.Labels[labelClusterType] == engineMongoDB || s.Labels[labelClusterType] == engineRedis:
			t.engine = s.Labels[labelClusterType]
		default:
			return t, false, nil
		}
		t.service = t.database + "-" + t.engine
	default:
		return t, false, nil
	}
	t.host, t.port, err = secretAddress(s, t.engine, t.service)
	t.tls = strings.EqualFold(string(s.Data[keyTLS]), "true")
	return t, true, err
}

// secretAddress is endpoint, else host+port, else the component Service's DNS name in the
// Secret's namespace; the port defaults to the engine's.
func secretAddress(s *corev1.Secret, engine, service string) (string, int, error) {
	host, port := string(s.Data[keyHost]), string(s.Data[keyPort])
	if ep := string(s.Data[keyEndpoint]); ep != "" {
		h, p, err := net.SplitHostPort(ep)
		if err != nil { // host without port
			h, p = ep, ""
		}
		host, port = h, p
	}
	if host == "" {
		host = service
	}
	if !strings.Contains(host, ".") && net.ParseIP(host) == nil && host != "localhost" {
		host += "." + s.Namespace + ".svc"
	}
	if port == "" {
		return host, defaultPorts[engine], nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return host, 0, fmt.Errorf("secret %s/%s: port is not a number in 1-65535", s.Namespace, s.Name)
	}
	return host, n, nil
}
