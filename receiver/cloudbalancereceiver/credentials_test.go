package cloudbalancereceiver

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/labring/otelcol-sealos/internal/k8sconfig"
	"github.com/labring/otelcol-sealos/test/cloudtest"
	"github.com/labring/otelcol-sealos/test/k8stest"
)

// Credentials from environment variables are read every cycle: a changed variable is used from the
// next cycle on; an unset one is a credentials failure naming the variable.
func TestCredentialsFromEnvironment(t *testing.T) {
	c := newClouds(t)
	c.tencent.Set(cloudtest.Account{ID: "AKID-env", Secret: "env-secret", Replies: []cloudtest.Reply{{Balance: "500"}}})
	a := c.pointAt(Account{Provider: "tencentcloud", AccountID: "env", AccessKeyIDEnv: "CB_TEST_ID", AccessKeySecretEnv: "CB_TEST_SECRET"})
	s, logs := newTestSource(t, testConfig(t, a))
	ok := key("query_success", `account_id="env",error_type="",provider="tencentcloud"`)

	t.Setenv("CB_TEST_ID", "AKID-env")
	t.Setenv("CB_TEST_SECRET", "env-secret")
	got := collect(t, s)
	assert.Equal(t, 1.0, got[ok], got)
	assert.Equal(t, 5.0, got[key("balance", `account_id="env",provider="tencentcloud"`)], got)

	t.Setenv("CB_TEST_SECRET", "rotated-away")
	got = collect(t, s)
	assert.Contains(t, got, key("query_success", `account_id="env",error_type="auth",provider="tencentcloud"`), got)

	t.Setenv("CB_TEST_SECRET", "")
	got = collect(t, s)
	assert.Contains(t, got, key("query_success", `account_id="env",error_type="credentials",provider="tencentcloud"`), got)
	failed := logs.FilterMessage("cloud balance query failed").All()
	require.NotEmpty(t, failed)
	assert.Equal(t, "access_key_secret_env: environment variable CB_TEST_SECRET is not set or empty", failed[len(failed)-1].ContextMap()["error"])

	t.Setenv("CB_TEST_SECRET", "env-secret")
	assert.Equal(t, 1.0, collect(t, s)[ok])
	assert.Equal(t, 1, logs.FilterMessage("cloud balance query succeeds again").Len())
}

// Accounts sharing a Secret read it once per cycle.
func TestSecretReadOncePerCycle(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "clouds"},
		Data:       map[string][]byte{"ali_id": []byte("LTAI-1"), "ali_secret": []byte("s1"), "volc_id": []byte("AKLT-1"), "volc_secret": []byte("s2")},
	})
	r := newSecretReader(client)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			data, err := r.get(context.Background(), "billing", "clouds")
			assert.NoError(t, err)
			assert.Equal(t, "s2", string(data["volc_secret"]))
		})
	}
	wg.Wait()
	_, err := r.get(context.Background(), "billing", "missing")
	require.ErrorContains(t, err, `credentials_secret: reading Secret billing/missing: secrets "missing" not found`)
	assert.Len(t, client.Actions(), 2, "one GET per Secret")
}

// Credentials from a Secret in a real API server, read each cycle: a rotated key pair is used from
// the next cycle on; a wrong or missing one fails the account, not the others.
func TestIntegrationCredentialsFromSecret(t *testing.T) {
	k := k8stest.StartT(t)
	ctx := context.Background()
	_, err := k.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "volcengine"},
		Data:       map[string][]byte{"ak": []byte("AKLT-first"), "sk": []byte("first-secret\n")},
	}
	_, err = k.Client.CoreV1().Secrets("billing").Create(ctx, secret, metav1.CreateOptions{})
	require.NoError(t, err)

	c := newClouds(t)
	c.volc.Set(cloudtest.Account{ID: "AKLT-first", Secret: "first-secret", Replies: []cloudtest.Reply{{Balance: "1,000.00"}}})
	c.volc.Set(cloudtest.Account{ID: "AKLT-second", Secret: "second-secret", Replies: []cloudtest.Reply{{Balance: "2,000.00"}}})
	cfg := testConfig(t,
		c.pointAt(Account{Provider: "volcengine", AccountID: "from-secret", CredentialsSecret: &SecretRef{Namespace: "billing", Name: "volcengine", AccessKeyIDKey: "ak", AccessKeySecretKey: "sk"}}),
		c.account("alicloud", "inline", "LTAI-inline", "inline-secret", cloudtest.Reply{Balance: "3.00", Currency: "CNY"}),
	)
	cfg.APIConfig = k8sconfig.APIConfig{AuthType: k8sconfig.AuthTypeKubeConfig, KubeConfigPath: k.Kubeconfig, QPS: 50, Burst: 100}
	s, _ := newTestSource(t, cfg)
	balance := key("balance", `account_id="from-secret",provider="volcengine"`)
	status := func(errorType string) string {
		return key("query_success", `account_id="from-secret",error_type="`+errorType+`",provider="volcengine"`)
	}
	inline := key("query_success", `account_id="inline",error_type="",provider="alicloud"`)

	got := collect(t, s)
	assert.Equal(t, 1000.0, got[balance], got)
	assert.Equal(t, 1.0, got[status("")], got)

	secret.Data = map[string][]byte{"ak": []byte("AKLT-second"), "sk": []byte("second-secret")}
	_, err = k.Client.CoreV1().Secrets("billing").Update(ctx, secret, metav1.UpdateOptions{})
	require.NoError(t, err)
	got = collect(t, s)
	assert.Equal(t, 2000.0, got[balance], "the rotated key pair is used: %v", got)

	secret.Data["sk"] = []byte("not-the-secret")
	_, err = k.Client.CoreV1().Secrets("billing").Update(ctx, secret, metav1.UpdateOptions{})
	require.NoError(t, err)
	got = collect(t, s)
	assert.Contains(t, got, status("auth"), got)
	assert.NotContains(t, got, balance)
	assert.Equal(t, 1.0, got[inline], "the other account is unaffected")

	require.NoError(t, k.Client.CoreV1().Secrets("billing").Delete(ctx, "volcengine", metav1.DeleteOptions{}))
	got = collect(t, s)
	assert.Contains(t, got, status("credentials"), got)
	assert.Equal(t, 1.0, got[inline], "the other account is unaffected")
}
