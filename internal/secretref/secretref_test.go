package secretref

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestRead(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "crdb"},
		Data:       map[string][]byte{"dsn": []byte(" postgresql://root:s3cret@crdb:26257/defaultdb\n"), "empty": nil},
	})
	ctx := context.Background()
	v, err := (&Ref{Namespace: "db", Name: "crdb", Key: "dsn"}).Read(ctx, client)
	require.NoError(t, err)
	assert.Equal(t, "postgresql://root:s3cret@crdb:26257/defaultdb", v)

	_, err = (&Ref{Namespace: "db", Name: "crdb", Key: "empty"}).Read(ctx, client)
	require.EqualError(t, err, "Secret db/crdb key empty: the key is missing or empty")

	_, err = (&Ref{Namespace: "db", Name: "gone", Key: "dsn"}).Read(ctx, client)
	require.ErrorContains(t, err, "reading Secret db/gone key dsn")
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestCheck(t *testing.T) {
	errs := (&Ref{Name: "x"}).Check("clusters[2].dsn_secret")
	require.Len(t, errs, 2)
	assert.EqualError(t, errs[0], "clusters[2].dsn_secret.namespace: must be set")
	assert.EqualError(t, errs[1], "clusters[2].dsn_secret.key: must be set")
	assert.Empty(t, (&Ref{Namespace: "a", Name: "b", Key: "c"}).Check("x"))
}
