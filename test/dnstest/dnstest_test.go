package dnstest

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnswers(t *testing.T) {
	s := Start(t, map[string][]string{"two.test": {"127.0.0.2", "::1"}})
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, s.Addr)
	}}
	ctx := context.Background()
	addrs, err := r.LookupHost(ctx, "two.test")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"127.0.0.2", "::1"}, addrs)

	_, err = r.LookupHost(ctx, NXDomain)
	var dnsErr *net.DNSError
	require.ErrorAs(t, err, &dnsErr)
	assert.True(t, dnsErr.IsNotFound)

	_, err = r.LookupHost(ctx, Empty)
	require.Error(t, err)

	s.Set("two.test", "127.0.0.3")
	addrs, err = r.LookupHost(ctx, "two.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"127.0.0.3"}, addrs)
}
